#include "actors/io_scheduler.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>

#include <deque>

namespace proxy {
namespace {

/// The scheduler owning the calling thread, and the thread's index in it.
thread_local const io_scheduler *this_scheduler = nullptr;
thread_local std::size_t this_worker = 0;

} // namespace

/// Actors one drain runs before the thread polls its sockets again: a flood of messages
/// between actors must not starve the network.
constexpr std::size_t max_turns = 256;

/// How long a request's log line may wait to be written with others (see core/log.hpp).
constexpr std::chrono::milliseconds log_batch_delay{100};

/// A network thread: its io_context, the thread running it, the execution unit the actors it
/// resumes see, and the actors they woke, which run before the thread polls its sockets again.
struct io_scheduler::worker {
  struct unit final : caf::execution_unit {
    unit(caf::actor_system *sys, worker *w) : caf::execution_unit(sys), home(w) {}
    void exec_later(caf::resumable *job) override { home->ready.push_back(job); }
    worker *home;
  };

  worker(caf::actor_system *sys, std::size_t i)
      : index(i), ctx(1), guard(boost::asio::make_work_guard(ctx)), exec(sys, this),
        log_timer(ctx) {}

  std::size_t index;
  boost::asio::io_context ctx;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
  unit exec;
  std::deque<caf::resumable *> ready;  ///< woken on this thread, each holding a reference
  bool draining = false;               ///< run_here() is on the stack: wake-ups join `ready`
  boost::asio::steady_timer log_timer; ///< writes the thread's batched log lines
  bool log_timer_armed = false;
  std::thread thread;
};

namespace {

/// A resumable on its way to a worker. If the worker's io_context is destroyed before it runs
/// (shutdown), the actor is cleaned up and released instead.
struct resume_job {
  resume_job(io_scheduler *s, void *w, caf::resumable *j) : sched(s), home(w), job(j) {}
  resume_job(resume_job &&other) noexcept
      : sched(other.sched), home(other.home), job(std::exchange(other.job, nullptr)) {}
  resume_job(const resume_job &) = delete;
  ~resume_job() {
    if (job)
      caf::scheduler::abstract_coordinator::cleanup_and_release(job);
  }
  io_scheduler *sched;
  void *home;
  caf::resumable *job;
};

} // namespace

io_scheduler::io_scheduler(caf::actor_system &sys) : abstract_coordinator(sys) {}

io_scheduler::~io_scheduler() = default;

caf::actor_system::module *io_scheduler::make(caf::actor_system &sys, caf::detail::type_list<>) {
  return new io_scheduler(sys);
}

io_scheduler &io_scheduler::of(caf::actor_system &sys) {
  return static_cast<io_scheduler &>(sys.scheduler());
}

void io_scheduler::start() {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, num_workers()); ++i)
    workers_.push_back(std::make_unique<worker>(&system(), i));
  clock_ = std::make_unique<io_clock>(workers_.front()->ctx);
  for (auto &w : workers_)
    w->thread = std::thread([this, w = w.get()] {
      this_scheduler = this;
      this_worker = w->index;
      log_batch_on_this_thread([w] {
        if (w->log_timer_armed)
          return; // a batch written early by size: the timer still runs for the next one
        w->log_timer_armed = true;
        w->log_timer.expires_after(log_batch_delay);
        w->log_timer.async_wait([w](boost::system::error_code) {
          w->log_timer_armed = false;
          log_flush();
        });
      });
      w->ctx.run();
      log_flush();
    });
  // CAF's printer actor (for aout) is not started: nothing here prints through it, and it
  // would be one more thread.
}

void io_scheduler::halt() {
  stopped_ = true;
  for (auto &w : workers_) {
    w->guard.reset();
    w->ctx.stop();
  }
  for (auto &w : workers_)
    if (w->thread.joinable())
      w->thread.join();
}

void io_scheduler::stop() {
  halt();
  if (clock_)
    clock_->stop();
  // Jobs still queued are released as their io_context goes; the clock lives on for them.
  workers_.clear();
}

void io_scheduler::enqueue(caf::resumable *job) {
  if (stopped_) {
    cleanup_and_release(job);
    return;
  }
  if (this_scheduler != this) {
    // From another thread: spread the work over the network threads.
    post(*workers_[next_++ % workers_.size()], job);
    return;
  }
  // From a network thread (a socket's completion handler, a relay finishing, a timer): the
  // actor runs here, its sockets' thread, and at once.
  auto &w = *workers_[this_worker];
  if (w.draining)
    w.ready.push_back(job);
  else
    run_here(w, job);
}

void io_scheduler::post(worker &w, caf::resumable *job) {
  boost::asio::post(w.ctx, [job = resume_job(this, &w, job)]() mutable {
    auto *home = static_cast<worker *>(job.home);
    job.sched->run_here(*home, std::exchange(job.job, nullptr));
  });
}

void io_scheduler::run_here(worker &w, caf::resumable *job) {
  w.draining = true;
  resume(w, job);
  for (std::size_t turns = 1; !w.ready.empty(); ++turns) {
    if (turns == max_turns) {
      // Let the sockets have a go; what is left runs later, in order.
      for (auto *rest : w.ready)
        post(w, rest);
      w.ready.clear();
      break;
    }
    auto *next = w.ready.front();
    w.ready.pop_front();
    resume(w, next);
  }
  w.draining = false;
}

void io_scheduler::resume(worker &w, caf::resumable *job) {
  switch (job->resume(&w.exec, max_throughput())) {
  case caf::resumable::resume_later:
    w.ready.push_back(job); // more messages than one turn allows: others go first
    break;
  case caf::resumable::done:
  case caf::resumable::awaiting_message:
    intrusive_ptr_release(job);
    break;
  case caf::resumable::shutdown_execution_unit:
    // Only CAF's own coordinators send this; never one of ours.
    intrusive_ptr_release(job);
    break;
  }
}

caf::actor_clock &io_scheduler::clock() noexcept {
  return *clock_;
}

std::vector<boost::asio::io_context *> io_scheduler::contexts() {
  std::vector<boost::asio::io_context *> out;
  for (auto &w : workers_)
    out.push_back(&w->ctx);
  return out;
}

std::optional<std::size_t> io_scheduler::current_worker() {
  if (!this_scheduler)
    return std::nullopt;
  return this_worker;
}

} // namespace proxy
