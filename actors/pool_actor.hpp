#pragma once
// An upstream pool actor: the bookkeeping of one network thread's keep-alive connections to the
// upstream (one pool per thread, so a lease never leaves the thread). It never touches a socket:
// it hands out connection objects (idle ones first, new ones while the proxy is under its
// capacity) and takes them back, keeping only those whose last response ended cleanly. At the
// capacity it answers 529 at once: waiting would only hold the client's socket longer.
#include "actors/protocol.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>

namespace proxy {

struct pool_setup {
  /// Upstream connections open across every pool, against `capacity`.
  std::shared_ptr<std::atomic<std::size_t>> open = std::make_shared<std::atomic<std::size_t>>(0);
  std::size_t capacity = 64;
  std::chrono::seconds idle_timeout{30};
  /// Makes an unconnected connection on this pool's network thread.
  std::function<std::shared_ptr<upstream_connection>()> make_connection;
};

struct pool_state {
  pool_setup setup;
  std::deque<std::shared_ptr<upstream_connection>> idle; ///< oldest first
  std::size_t mine = 0;                                  ///< open connections of this pool
  bool ticking = false;
  static inline const char *name = "upstream_pool";
};

pool_actor::behavior_type pool_behavior(pool_actor::stateful_pointer<pool_state> self,
                                        pool_setup setup);

} // namespace proxy
