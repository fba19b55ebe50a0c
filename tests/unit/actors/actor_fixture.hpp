#pragma once
// An actor system for actor tests: a sharing scheduler with two threads. Every tracked actor is
// told to exit and awaited before the system goes away.
#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> spawned;

  actor_fixture() {
    cfg.set("scheduler.policy", caf::atom("sharing"));
    cfg.set("scheduler.max-threads", size_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  actor_fixture(const actor_fixture &) = delete;
  actor_fixture &operator=(const actor_fixture &) = delete;

  /// Keeps the actor for the shutdown below and returns an untyped handle, so tests can also
  /// send what the typed interface would refuse to compile.
  template <class Handle> caf::actor track(Handle h) {
    auto a = caf::actor_cast<caf::actor>(h);
    spawned.push_back(a);
    return a;
  }

  /// Sends `xs` as a request and returns the reply of type T (fails the test on an error).
  template <class T, class... Ts> T ask(const caf::actor &a, Ts &&...xs) {
    caf::scoped_actor self{*sys};
    T out{};
    self->request(a, std::chrono::seconds(5), std::forward<Ts>(xs)...)
        .receive([&](T &r) { out = std::move(r); }, [&](caf::error &e) { FAIL(sys->render(e)); });
    return out;
  }

  ~actor_fixture() {
    for (auto &a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    // A detached actor's thread ends only once nothing refers to the actor any more.
    spawned.clear();
    sys->await_all_actors_done();
    sys.reset();
  }
};

/// Waits (bounded, 10 s) until `pred` holds.
template <class Pred> bool eventually_true(Pred pred) {
  for (int i = 0; i < 1000 && !pred(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pred();
}
