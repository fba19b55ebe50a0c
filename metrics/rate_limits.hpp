#pragma once
// What the upstream says about the credential's limits. Its latest rate-limit headers
// (anthropic-ratelimit-*): API keys get the requests/tokens families, subscription credentials
// the unified 5-hour and 7-day ones; each answer that carries them replaces what was known,
// header by header. And its refusals of third-party use of a subscription credential. Shared
// by every thread.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace proxy {

using header_pairs = std::vector<std::pair<std::string, std::string>>;
/// Header names and values as an answer carries them (views into it).
using header_views = std::span<const std::pair<std::string_view, std::string_view>>;

/// Where the credential stands with the upstream's quota.
struct quota_state {
  enum class kind {
    ok,
    extra_usage_required, ///< refused as third-party use of a subscription, not since served
    plan_limit_reached,   ///< anthropic-ratelimit-unified-status: rejected
  } state = kind::ok;
  std::int64_t extra_usage_refusals = 0;
  std::int64_t last_refusal_ms = 0; ///< 0: never
};

class rate_limit_board {
public:
  /// Names in any case (kept lower-case); values as sent. Allocates only for a name not seen
  /// before: the per-answer path copies the values into the strings already there.
  void update(header_views headers, std::int64_t now_ms);
  /// Every header known, lower-case names, sorted by name.
  header_pairs snapshot() const;
  std::int64_t updated_ms() const;

  /// The upstream refused a request as third-party use of a subscription credential. True when
  /// this changes the state (worth a log line).
  bool note_extra_usage_refusal(std::int64_t now_ms);
  /// A request was served: a refusal before it no longer describes the credential. Costs one
  /// relaxed load until a refusal happened.
  void note_success() {
    if (refusals_.load(std::memory_order_relaxed) > 0)
      note_success_slow();
  }
  quota_state quota() const;

private:
  void note_success_slow();

  std::atomic<std::int64_t> refusals_{0};
  /// Under mutex_: the last answer that told anything was a refusal (an order, not a time: two
  /// answers may come within one millisecond).
  bool refused_since_success_ = false;
  std::int64_t last_refusal_ms_ = 0;
  mutable std::mutex mutex_;
  header_pairs latest_;
  std::int64_t updated_ms_ = 0;
};

/// A rate-limit value as a number for a gauge: numbers as they are, RFC 3339 times (the reset
/// headers of API keys) as Unix seconds. None for anything else (a status word).
bool rate_limit_number(std::string_view value, double &out);

} // namespace proxy
