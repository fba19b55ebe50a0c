// The scheduler that runs actors on the network threads, and its clock.
//
// CAF 0.17.6 dereferences a null argument tuple when a function actor is spawned with no
// arguments (UndefinedBehaviorSanitizer stops there), so every actor here takes one.
#include "actors/io_scheduler.hpp"

#include <boost/asio/post.hpp>
#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <future>
#include <thread>

using namespace proxy;

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;

struct io_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  explicit io_system(std::size_t threads) {
    cfg.load<io_scheduler>();
    cfg.set("scheduler.max-threads", threads);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  io_scheduler &scheduler() { return io_scheduler::of(*sys); }
  /// Runs `f` on network thread `i` and returns what it returns.
  template <class F> auto on_thread(std::size_t i, F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(*scheduler().contexts()[i], [&task] { task(); });
    REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return result.get();
  }
};

/// Waits (bounded) until `pred` holds.
template <class Pred> bool eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pred();
}

/// Answers every ping with the index of the network thread it ran on.
caf::behavior ponger(caf::event_based_actor *, int) {
  return {[](ping_atom) { return static_cast<int>(*io_scheduler::current_worker()); }};
}

/// Never answers a ping.
caf::behavior silent(caf::event_based_actor *, int) {
  return {[](ping_atom) { return caf::skip(); }};
}

} // namespace

TEST_CASE("the network threads are the scheduler's workers") {
  io_system s(2);
  REQUIRE(s.scheduler().contexts().size() == 2);
  CHECK_FALSE(io_scheduler::current_worker()); // this thread is not one of them
  CHECK(s.on_thread(0, [] { return *io_scheduler::current_worker(); }) == 0);
  CHECK(s.on_thread(1, [] { return *io_scheduler::current_worker(); }) == 1);
}

TEST_CASE("an actor woken on a network thread runs there, and so does the actor it asks") {
  io_system s(2);
  for (std::size_t thread : {0u, 1u}) {
    std::promise<std::pair<int, int>> seen;
    // Both spawned from the same network thread, as the server spawns sessions that then talk
    // to that thread's pool actor.
    auto pong = s.on_thread(thread, [&] { return s.sys->spawn(ponger, 0); });
    s.on_thread(thread, [&] {
      s.sys->spawn(
          [&](caf::event_based_actor *self, caf::actor other) {
            int mine = static_cast<int>(*io_scheduler::current_worker());
            self->request(other, std::chrono::seconds(5), ping_atom::value)
                .then([&, mine](int theirs) { seen.set_value({mine, theirs}); },
                      [&](caf::error &) { seen.set_value({-1, -1}); });
          },
          pong);
      return 0;
    });
    auto f = seen.get_future();
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto [mine, theirs] = f.get();
    CHECK(mine == static_cast<int>(thread));
    CHECK(theirs == static_cast<int>(thread));
    caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("request timeouts and delayed messages fire without a clock thread") {
  io_system s(1);
  std::promise<bool> timed_out;
  std::promise<std::chrono::milliseconds> delayed;
  auto quiet = s.sys->spawn(silent, 0);
  auto started = std::chrono::steady_clock::now();
  s.sys->spawn(
      [&, started](caf::event_based_actor *self, caf::actor other) -> caf::behavior {
        self->request(other, std::chrono::milliseconds(200), ping_atom::value)
            .then([&](int) { timed_out.set_value(false); },
                  [&](caf::error &e) { timed_out.set_value(e == caf::sec::request_timeout); });
        self->delayed_send(self, std::chrono::milliseconds(300), ping_atom::value);
        return {[&, self, started](ping_atom) {
          delayed.set_value(std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - started));
          self->quit();
        }};
      },
      quiet);
  auto t = timed_out.get_future();
  REQUIRE(t.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(t.get());
  auto d = delayed.get_future();
  REQUIRE(d.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(d.get() >= std::chrono::milliseconds(300));
  caf::anon_send_exit(quiet, caf::exit_reason::user_shutdown);
}

TEST_CASE("a timeout set late is re-armed earlier when an earlier one arrives") {
  io_system s(1);
  std::promise<void> early;
  s.sys->spawn(
      [&](caf::event_based_actor *self, int) -> caf::behavior {
        self->delayed_send(self, std::chrono::seconds(3600), ping_atom::value);
        self->delayed_send(self, std::chrono::milliseconds(50), ping_atom::value);
        return {[&, self](ping_atom) {
          early.set_value();
          self->quit();
        }};
      },
      0);
  CHECK(early.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
}

namespace {
std::atomic<int> states_destroyed{0};
struct counted_state {
  ~counted_state() { ++states_destroyed; }
};
} // namespace

TEST_CASE("actors that end release their state; timeouts pending at shutdown go too") {
  states_destroyed = 0;
  std::atomic<int> bounced{0};
  io_system s(2);
  auto quiet = s.sys->spawn(silent, 0);
  for (int i = 0; i < 50; ++i)
    s.sys->spawn(
        [&bounced](caf::stateful_actor<counted_state> *self, caf::actor other) -> caf::behavior {
          self->delayed_send(self, std::chrono::seconds(3600), ping_atom::value);
          self->request(other, std::chrono::seconds(3600), ping_atom::value)
              .then([](int) {},
                    [self, &bounced](caf::error &) {
                      ++bounced;
                      self->quit(); // ends normally: its state goes now
                    });
          return {[](ping_atom) {}};
        },
        quiet);
  // The silent actor leaving bounces every request, and each asker then ends.
  caf::anon_send_exit(quiet, caf::exit_reason::user_shutdown);
  quiet = nullptr;
  REQUIRE(eventually([&] { return bounced == 50; }));
  CHECK(eventually([&] { return states_destroyed == 50; }));
  // Their hour-long timeouts are gone with them: nothing holds the system open.
  s.sys->await_actors_before_shutdown(false);
  s.scheduler().halt();
  s.sys.reset();
  CHECK(states_destroyed == 50);
}
