#pragma once
// The upstream pool actor: the bookkeeping of keep-alive connections to the upstream. It never
// touches a socket: it hands out connection objects (idle ones first, new ones while under the
// limit) and takes them back, keeping only those whose last response ended cleanly.
#include "actors/messages.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace proxy {

struct pool_setup {
  std::size_t max_connections = 64;
  std::chrono::seconds idle_timeout{30};
  std::chrono::milliseconds max_wait{30'000}; ///< a lease waits at most this long for a slot
  std::size_t workers = 1;                    ///< network threads; connections belong to one
  /// Makes an unconnected connection that lives on the given worker's executor.
  std::function<std::shared_ptr<upstream_connection>(std::size_t worker)> make_connection;
};

struct pool_state {
  struct waiter {
    std::size_t worker;
    caf::response_promise promise;
    std::chrono::steady_clock::time_point deadline;
  };
  pool_setup setup;
  std::vector<std::deque<std::shared_ptr<upstream_connection>>> idle; ///< per worker, oldest first
  std::size_t open = 0;
  std::deque<waiter> waiters;
  bool ticking = false;
  static inline const char *name = "upstream_pool";
};

caf::behavior pool_actor(caf::stateful_actor<pool_state> *self, pool_setup setup);

} // namespace proxy
