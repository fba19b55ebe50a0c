#pragma once
// The credential actor's current token, readable by every session without a message. The
// credential actor is the only writer and publishes each change; each network thread keeps its
// own copy and re-reads only after a publication, so a read takes no lock and writes nothing
// shared. Sessions ask the credential actor only when no fresh token is published.
#include "policy/upstream_auth.hpp"

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>

namespace proxy {

struct published_token {
  upstream_auth auth;
  bool refreshable = false; ///< an upstream 401 is worth one refresh and retry
  /// Use it without asking until then (epoch ms); after that the credential actor decides.
  std::int64_t fresh_until_ms = std::numeric_limits<std::int64_t>::max();
};

class token_board {
public:
  token_board();

  /// Makes `token` the current one; null withdraws it (sessions then ask the actor).
  void publish(std::shared_ptr<const published_token> token);

  /// The current token if one is published and still fresh at `now_ms`. Valid until the calling
  /// thread calls again: copy what you keep (a pointer, so no reference count is shared).
  const published_token *fresh(std::int64_t now_ms) const;

private:
  const std::uint64_t id_; ///< tells boards apart in the per-thread copies
  mutable std::mutex mutex_;
  std::shared_ptr<const published_token> current_;
  std::atomic<std::uint64_t> version_{0};
};

} // namespace proxy
