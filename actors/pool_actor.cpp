#include "actors/pool_actor.hpp"

#include "io/upstream_connection.hpp"

#include <algorithm>

namespace proxy {
namespace {

using state_ptr = pool_actor::stateful_pointer<pool_state>;
using clock = std::chrono::steady_clock;

lease_reply granted(std::shared_ptr<upstream_connection> c) {
  lease_reply r;
  r.ok = true;
  r.connection = std::move(c);
  return r;
}

void drop(pool_state &st, const std::shared_ptr<upstream_connection> &c) {
  c->close_soon();
  --st.mine;
  st.setup.open->fetch_sub(1, std::memory_order_relaxed);
}

/// Idle connections the upstream has probably closed by now are not worth a try.
void prune_idle(pool_state &st) {
  auto cutoff = clock::now() - st.setup.idle_timeout;
  while (!st.idle.empty() && st.idle.front()->idle_since < cutoff) {
    drop(st, st.idle.front());
    st.idle.pop_front();
  }
}

void keep_ticking(state_ptr self) {
  auto &st = self->state;
  st.ticking = !st.idle.empty();
  if (st.ticking)
    self->delayed_send(self,
                       std::clamp<std::chrono::seconds>(
                           st.setup.idle_timeout, std::chrono::seconds(1), std::chrono::seconds(5)),
                       tick_atom::value);
}

lease_reply lease(state_ptr self) {
  auto &st = self->state;
  prune_idle(st);
  if (!st.idle.empty()) {
    auto c = std::move(st.idle.back()); // the most recently used is the most likely alive
    st.idle.pop_back();
    return granted(std::move(c));
  }
  if (st.setup.open->fetch_add(1, std::memory_order_relaxed) >= st.setup.capacity) {
    st.setup.open->fetch_sub(1, std::memory_order_relaxed);
    lease_reply r;
    r.error =
        make_api_error(529, "The proxy is at its capacity of " + std::to_string(st.setup.capacity) +
                                " upstream connections; try again shortly.");
    return r;
  }
  ++st.mine;
  return granted(st.setup.make_connection());
}

} // namespace

pool_actor::behavior_type pool_behavior(pool_actor::stateful_pointer<pool_state> self,
                                        pool_setup setup) {
  self->state.setup = std::move(setup);
  return {
      [self](lease_atom) {
        // Always an answer: sessions ask without a timeout (see session_actor.cpp).
        try {
          return lease(self);
        } catch (const std::exception &e) {
          lease_reply r;
          r.error = make_api_error(500, std::string("the upstream pool failed: ") + e.what());
          return r;
        }
      },
      [self](release_atom, std::shared_ptr<upstream_connection> &c, bool reusable) {
        auto &st = self->state;
        if (!reusable) {
          drop(st, c);
          return;
        }
        c->idle_since = clock::now();
        st.idle.push_back(std::move(c));
        if (!st.ticking)
          keep_ticking(self);
      },
      [self](tick_atom) {
        prune_idle(self->state);
        keep_ticking(self);
      },
      [self](status_atom) {
        auto &st = self->state;
        prune_idle(st);
        pool_status s;
        s.open = st.mine;
        s.idle = st.idle.size();
        s.busy = st.mine - s.idle;
        s.max = st.setup.capacity;
        return s;
      },
  };
}

} // namespace proxy
