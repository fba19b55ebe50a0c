#pragma once
// The actor system's scheduler, whose workers are the network threads. An actor runs on the
// network thread that woke it: a session woken by its client's socket, or by an actor on that
// thread, stays on the thread that owns its sockets, so the common request path never changes
// threads. It does not even go back through the event loop: an actor woken by network code runs
// at once, and one woken by another actor runs right after that one, before the thread polls
// its sockets again. Only a wake-up from another thread is posted to the worker's io_context.
// Load it with `cfg.load<io_scheduler>()` and size it with `scheduler.max-threads`.
#include "actors/io_clock.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace proxy {

class io_scheduler final : public caf::scheduler::abstract_coordinator {
public:
  explicit io_scheduler(caf::actor_system &sys);
  ~io_scheduler() override;

  static caf::actor_system::module *make(caf::actor_system &sys, caf::detail::type_list<>);

  /// The scheduler of a system that loaded it.
  static io_scheduler &of(caf::actor_system &sys);

  void start() override;
  /// Stops the network threads and waits for them; their io_contexts and whatever is still
  /// queued on them stay until stop(). Lets the owner of sockets on those contexts destroy them
  /// first, with no thread running. Idempotent.
  void halt();
  void stop() override;
  void enqueue(caf::resumable *job) override;
  caf::actor_clock &clock() noexcept override;

  /// One io_context per network thread, valid from start() to stop().
  std::vector<boost::asio::io_context *> contexts();

  /// The index of the network thread calling, or none.
  static std::optional<std::size_t> current_worker();

private:
  struct worker;
  void post(worker &w, caf::resumable *job);
  /// Runs `job` now, then every actor it woke on this thread, a bounded number of turns.
  void run_here(worker &w, caf::resumable *job);
  void resume(worker &w, caf::resumable *job);

  std::vector<std::unique_ptr<worker>> workers_;
  std::unique_ptr<io_clock> clock_;
  std::atomic<bool> stopped_{false};
  std::atomic<std::size_t> next_{0};
};

} // namespace proxy
