#include "actors/pool_actor.hpp"

namespace proxy {
namespace {

using state_ptr = caf::stateful_actor<pool_state> *;
using clock = std::chrono::steady_clock;

std::size_t idle_count(const pool_state &st) {
  std::size_t n = 0;
  for (const auto &q : st.idle)
    n += q.size();
  return n;
}

lease_reply granted(std::shared_ptr<upstream_connection> c) {
  lease_reply r;
  r.ok = true;
  r.connection = std::move(c);
  return r;
}

void drop(pool_state &st, const std::shared_ptr<upstream_connection> &c) {
  c->close_soon();
  --st.open;
}

/// Idle connections the upstream has probably closed by now are not worth a try.
void prune_idle(pool_state &st) {
  auto cutoff = clock::now() - st.setup.idle_timeout;
  for (auto &q : st.idle)
    while (!q.empty() && q.front()->idle_since < cutoff) {
      drop(st, q.front());
      q.pop_front();
    }
}

/// A connection for `worker` without waiting, if one can be had.
std::shared_ptr<upstream_connection> try_lease(pool_state &st, std::size_t worker) {
  prune_idle(st);
  auto &mine = st.idle[worker];
  if (!mine.empty()) {
    auto c = std::move(mine.back()); // the most recently used is the most likely alive
    mine.pop_back();
    return c;
  }
  if (st.open >= st.setup.max_connections) {
    // At the limit, an idle connection of another worker makes room for one of ours.
    auto other = std::find_if(st.idle.begin(), st.idle.end(), [](auto &q) { return !q.empty(); });
    if (other == st.idle.end())
      return nullptr;
    drop(st, other->front());
    other->pop_front();
  }
  ++st.open;
  return st.setup.make_connection(worker);
}

void serve_waiters(state_ptr self) {
  auto &st = self->state;
  while (!st.waiters.empty()) {
    auto c = try_lease(st, st.waiters.front().worker);
    if (!c)
      return;
    st.waiters.front().promise.deliver(granted(std::move(c)));
    st.waiters.pop_front();
  }
}

/// Waiters get a clear answer before their own request times out.
void expire_waiters(state_ptr self) {
  auto &st = self->state;
  auto now = clock::now();
  while (!st.waiters.empty() && st.waiters.front().deadline <= now) {
    lease_reply r;
    r.error = make_api_error(529, "All " + std::to_string(st.setup.max_connections) +
                                      " upstream connections stayed busy; try again shortly.");
    st.waiters.front().promise.deliver(r);
    st.waiters.pop_front();
  }
  st.ticking = !st.waiters.empty();
  if (st.ticking)
    self->delayed_send(self, std::chrono::milliseconds(250), tick_atom::value);
}

} // namespace

caf::behavior pool_actor(caf::stateful_actor<pool_state> *self, pool_setup setup) {
  self->state.setup = std::move(setup);
  self->state.idle.resize(std::max<std::size_t>(1, self->state.setup.workers));
  return {
      [self](lease_atom, std::size_t worker) -> caf::result<lease_reply> {
        auto &st = self->state;
        worker = worker % st.idle.size();
        if (st.waiters.empty())
          if (auto c = try_lease(st, worker))
            return granted(std::move(c));
        st.waiters.push_back(
            {worker, self->make_response_promise(), clock::now() + st.setup.max_wait});
        if (!st.ticking) {
          st.ticking = true;
          self->delayed_send(self, std::chrono::milliseconds(250), tick_atom::value);
        }
        return st.waiters.back().promise;
      },
      [self](release_atom, std::shared_ptr<upstream_connection> &c, bool reusable) {
        auto &st = self->state;
        if (reusable) {
          c->idle_since = clock::now();
          st.idle[c->worker() % st.idle.size()].push_back(std::move(c));
        } else {
          drop(st, c);
        }
        serve_waiters(self);
      },
      [self](tick_atom) { expire_waiters(self); },
      [self](status_atom) {
        auto &st = self->state;
        prune_idle(st);
        pool_status s;
        s.open = st.open;
        s.idle = idle_count(st);
        s.busy = st.open - s.idle;
        s.waiting = st.waiters.size();
        s.max = st.setup.max_connections;
        return s;
      },
  };
}

} // namespace proxy
