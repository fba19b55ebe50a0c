#include "worker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <vector>

namespace loadgen {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Reads go into one buffer per thread and the parser keeps only what it needs, so an idle
// stream costs no buffer memory (10,000 streams would otherwise hold 10,000 buffers).
constexpr std::size_t k_read_buffer = 64 * 1024;
// Reserved up front so sample vectors do not grow during a typical run.
constexpr std::uint64_t k_reserve_samples = 1 << 20;

std::int64_t ns(clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

bool would_block(const error_code &ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

class load_thread;

// One connection sending requests one after another. Exactly one operation is pending while a
// request is in progress (connect, write or wait), so closing the socket on a timeout always
// lands in exactly one handler.
class client final : public sse_observer {
public:
  explicit client(load_thread &t);
  client(const client &) = delete;
  client &operator=(const client &) = delete;

  void start(clock::time_point scheduled); // begins one request
  void connect();                          // the thread granted a connect slot
  // Still waiting for a connect slot after the timeout: the request fails as a connect error.
  bool connect_overdue(clock::time_point now) const;
  void give_up_connect(clock::time_point now);
  // `all`: the run is over (deadline + timeout), time out whatever is in progress.
  void check_timeout(clock::time_point now, bool all);
  void close();

  void on_event(std::string_view name, clock::time_point at) override;

private:
  enum class step { idle, queued, connecting, sending, receiving };
  enum class outcome { response, connect_failed, closed, timed_out, protocol };

  bool peer_closed_idle_connection();
  void on_connect(const error_code &ec);
  void send();
  void await_response();
  void on_readable(const error_code &ec);
  void read_available();
  void finish(outcome o, clock::time_point now);
  broken_reason why_broken(outcome o) const;

  load_thread &t_;
  tcp::socket socket_;
  response_parser parser_;
  step step_ = step::idle;
  bool timed_out_ = false;
  bool got_bytes_ = false;
  bool in_stream_ = false; // the response's headers said text/event-stream
  clock::time_point scheduled_;
  clock::time_point origin_; // latencies are measured from here
  // The timeout runs from here: from queueing for a connect slot to connected, then from the
  // start of the request write.
  clock::time_point op_start_;
  clock::time_point idle_since_; // end of the last response on this connection
  clock::time_point last_event_;
  std::uint64_t events_ = 0;
};

class load_thread {
public:
  load_thread(const plan &p, const share &s, live_counters &live)
      : plan_(p), share_(s), live_(live), buffer_(std::make_unique<char[]>(k_read_buffer)) {}

  raw_stats run();

  asio::io_context &context() { return ioc_; }
  const loadgen::plan &plan() const { return plan_; }
  raw_stats &stats() { return stats_; }
  live_counters &live() { return live_; }
  char *buffer() { return buffer_.get(); }

  // At most share_.max_connecting connects at once; the rest wait in order.
  void want_connect(client &c);
  void connect_done();
  // The client is free: give it the next request, park it until its slot, or retire it.
  void request_done(client &c);

private:
  enum class work { now, later, none };
  work take(clock::time_point now, clock::time_point &scheduled);
  clock::time_point slot_time(std::uint64_t k) const;
  std::uint64_t slots_before(clock::time_point t) const;
  void arm_slot_timer();
  void on_slot_timer();
  void retire(client &c);
  void retire_idle();
  void arm_sweep();
  void sweep(clock::time_point now);

  const loadgen::plan &plan_;
  const share share_;
  live_counters &live_;
  // Declared before everything holding sockets or timers, so it is destroyed after them.
  asio::io_context ioc_{1};
  asio::steady_timer slot_timer_{ioc_};
  asio::steady_timer sweep_timer_{ioc_};
  bool slot_timer_armed_ = false;
  std::unique_ptr<char[]> buffer_;
  std::vector<std::unique_ptr<client>> clients_;
  std::vector<client *> idle_; // open loop: free clients waiting for the next slot
  std::deque<client *> connect_queue_;
  std::size_t connecting_ = 0;
  std::size_t active_ = 0;    // clients not retired yet
  std::uint64_t started_ = 0; // requests handed out (open loop: slots taken)
  raw_stats stats_;
};

// ---- client ----

client::client(load_thread &t) : t_(t), socket_(t.context()), parser_(this) {}

void client::start(clock::time_point scheduled) {
  scheduled_ = scheduled;
  timed_out_ = false;
  got_bytes_ = false;
  in_stream_ = false;
  events_ = 0;
  parser_.reset();
  if (socket_.is_open() && !peer_closed_idle_connection()) {
    send();
  } else {
    close();
    step_ = step::queued;
    op_start_ = clock::now();
    t_.want_connect(*this);
  }
}

// A server may close a keep-alive connection that sat idle (open loop); that is not an error
// of the next request, so look before reusing one. Back to back requests skip the syscall.
bool client::peer_closed_idle_connection() {
  if (clock::now() - idle_since_ < std::chrono::milliseconds(1))
    return false;
  error_code ec;
  socket_.read_some(asio::buffer(t_.buffer(), k_read_buffer), ec);
  return !would_block(ec); // end of stream, an error, or bytes nobody asked for
}

void client::connect() {
  step_ = step::connecting;
  socket_.async_connect(t_.plan().endpoint, [this](const error_code &ec) { on_connect(ec); });
}

void client::on_connect(const error_code &ec) {
  t_.connect_done();
  if (timed_out_ || ec) {
    finish(outcome::connect_failed, clock::now());
    return;
  }
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored); // read_some/write_some below must never block
  send();
}

// One write per request; only a full socket buffer (a large --body) needs an async rest.
void client::send() {
  const std::string &request = t_.plan().request;
  step_ = step::sending;
  op_start_ = clock::now();
  origin_ = t_.plan().rate > 0 ? scheduled_ : op_start_;
  error_code ec;
  std::size_t n = socket_.write_some(asio::buffer(request), ec);
  if (would_block(ec)) {
    n = 0;
    ec = {};
  }
  if (ec) {
    finish(outcome::closed, clock::now());
    return;
  }
  if (n == request.size()) {
    await_response();
    return;
  }
  asio::async_write(socket_, asio::buffer(request.data() + n, request.size() - n),
                    [this](const error_code &wec, std::size_t) {
                      if (timed_out_)
                        finish(outcome::timed_out, clock::now());
                      else if (wec)
                        finish(outcome::closed, clock::now());
                      else
                        await_response();
                    });
}

// Waits for readability, then reads into the thread's buffer. async_wait re-arms the descriptor
// (EPOLL_CTL_MOD), which also reports data or a close that is already pending, so waiting after
// a short read never misses anything.
void client::await_response() {
  step_ = step::receiving;
  socket_.async_wait(tcp::socket::wait_read, [this](const error_code &ec) { on_readable(ec); });
}

void client::on_readable(const error_code &ec) {
  if (timed_out_)
    finish(outcome::timed_out, clock::now());
  else if (ec)
    finish(outcome::closed, clock::now());
  else
    read_available();
}

void client::read_available() {
  char *const buf = t_.buffer();
  for (;;) {
    error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(buf, k_read_buffer), ec);
    const auto now = clock::now();
    if (would_block(ec)) {
      await_response();
      return;
    }
    if (ec == asio::error::eof) {
      const bool whole = parser_.finish() == response_parser::status::done;
      finish(whole ? outcome::response : outcome::closed, now);
      return;
    }
    if (ec) {
      finish(outcome::closed, now);
      return;
    }
    if (!got_bytes_) {
      got_bytes_ = true;
      t_.stats().ttfb_ns.push_back(ns(now - origin_));
    }
    const auto r = parser_.feed(std::string_view(buf, n), now);
    if (!in_stream_ && parser_.headers_done() && parser_.event_stream()) {
      in_stream_ = true;
      t_.live().open_streams.fetch_add(1, std::memory_order_relaxed);
    }
    if (r.state == response_parser::status::error) {
      finish(outcome::protocol, now);
      return;
    }
    if (r.state == response_parser::status::done) {
      // Bytes after the response were never asked for: the connection cannot be trusted.
      finish(r.consumed == n ? outcome::response : outcome::protocol, now);
      return;
    }
    if (n < k_read_buffer) {
      await_response();
      return;
    }
  }
}

bool client::connect_overdue(clock::time_point now) const {
  return now - op_start_ >= t_.plan().timeout;
}

void client::give_up_connect(clock::time_point now) {
  finish(outcome::connect_failed, now);
}

void client::check_timeout(clock::time_point now, bool all) {
  const bool in_progress =
      step_ == step::connecting || step_ == step::sending || step_ == step::receiving;
  if (in_progress && !timed_out_ && (all || now - op_start_ >= t_.plan().timeout)) {
    timed_out_ = true;
    close(); // the pending operation completes with operation_aborted and sees timed_out_
  }
}

void client::close() {
  error_code ignored;
  socket_.close(ignored);
}

void client::on_event(std::string_view, clock::time_point at) {
  auto &s = t_.stats();
  if (events_ > 0)
    s.gap_ns.push_back(ns(at - last_event_));
  last_event_ = at;
  ++events_;
  ++s.events;
}

broken_reason client::why_broken(outcome o) const {
  if (parser_.saw_error_event())
    return broken_reason::error_event;
  switch (o) {
  case outcome::timed_out:
    return broken_reason::timeout;
  case outcome::closed:
  case outcome::connect_failed:
    return broken_reason::closed;
  case outcome::protocol:
    return broken_reason::protocol;
  case outcome::response:
    break;
  }
  const int code = parser_.status_code();
  return code >= 200 && code < 300 ? broken_reason::no_message_stop : broken_reason::status;
}

// Counts the request exactly once and hands the client back to its thread.
void client::finish(outcome o, clock::time_point now) {
  auto &s = t_.stats();
  auto &live = t_.live();
  const int code = parser_.status_code();
  const bool success = o == outcome::response && code >= 200 && code < 300;
  bool ok = false;
  ++s.requests;
  switch (o) {
  case outcome::response:
    s.latency_ns.push_back(ns(now - origin_));
    if (success)
      ok = !in_stream_ || parser_.stream_completed();
    else
      ++s.status[static_cast<std::size_t>(code)]; // 100..999: the parser reads three digits
    break;
  case outcome::connect_failed:
    ++s.connect;
    break;
  case outcome::closed:
    ++s.reset;
    break;
  case outcome::timed_out:
    ++s.timeout;
    break;
  case outcome::protocol:
    ++s.protocol;
    break;
  }
  if (ok)
    ++s.ok;
  if (in_stream_) {
    ++s.streams;
    s.events_per_stream_min = std::min(s.events_per_stream_min, events_);
    s.events_per_stream_max = std::max(s.events_per_stream_max, events_);
    if (o == outcome::response && parser_.stream_completed())
      ++s.streams_completed;
    else
      ++s.broken[static_cast<std::size_t>(why_broken(o))];
    live.open_streams.fetch_sub(1, std::memory_order_relaxed);
  }
  live.requests.fetch_add(1, std::memory_order_relaxed);
  if (!ok)
    live.errors.fetch_add(1, std::memory_order_relaxed);

  if (o != outcome::response || !parser_.keep_alive())
    close();
  idle_since_ = now;
  step_ = step::idle;
  t_.request_done(*this);
}

// ---- load_thread ----

raw_stats load_thread::run() {
  const auto expected = std::min(share_.requests, k_reserve_samples);
  stats_.ttfb_ns.reserve(expected);
  stats_.latency_ns.reserve(expected);

  clients_.reserve(share_.clients);
  for (std::size_t i = 0; i < share_.clients; ++i)
    clients_.push_back(std::make_unique<client>(*this));
  active_ = clients_.size();
  if (active_ > 0)
    arm_sweep();
  for (auto &c : clients_)
    request_done(*c);
  ioc_.run();

  if (plan_.rate > 0 && plan_.deadline) {
    const auto due = std::min(slots_before(*plan_.deadline), share_.requests);
    if (due > started_)
      stats_.not_started = due - started_;
  }
  return std::move(stats_);
}

void load_thread::want_connect(client &c) {
  if (connecting_ < share_.max_connecting) {
    ++connecting_;
    c.connect();
  } else {
    connect_queue_.push_back(&c);
  }
}

void load_thread::connect_done() {
  --connecting_;
  if (!connect_queue_.empty()) {
    client *next = connect_queue_.front();
    connect_queue_.pop_front();
    ++connecting_;
    next->connect();
  }
}

load_thread::work load_thread::take(clock::time_point now, clock::time_point &scheduled) {
  if (started_ >= share_.requests)
    return work::none;
  if (plan_.deadline && now >= *plan_.deadline)
    return work::none;
  if (plan_.rate <= 0) {
    scheduled = now;
    ++started_;
    return work::now;
  }
  const auto t = slot_time(started_);
  if (plan_.deadline && t >= *plan_.deadline)
    return work::none;
  if (t > now)
    return work::later;
  // A slot that came while every client was busy keeps its time: latency counts the wait.
  scheduled = t;
  ++started_;
  return work::now;
}

void load_thread::request_done(client &c) {
  clock::time_point scheduled;
  switch (take(clock::now(), scheduled)) {
  case work::now:
    c.start(scheduled);
    break;
  case work::later:
    idle_.push_back(&c);
    arm_slot_timer();
    break;
  case work::none:
    retire(c);
    retire_idle();
    break;
  }
}

// Open loop: the threads' slots interleave, so together they are evenly spaced at `rate`.
clock::time_point load_thread::slot_time(std::uint64_t k) const {
  const double index = static_cast<double>(k) * plan_.threads + share_.index;
  return plan_.start + std::chrono::nanoseconds(std::llround(index * 1e9 / plan_.rate));
}

// The number of this thread's slots scheduled before t.
std::uint64_t load_thread::slots_before(clock::time_point t) const {
  const double elapsed = static_cast<double>(ns(t - plan_.start));
  const double estimate = (elapsed * plan_.rate / 1e9 - share_.index) / plan_.threads;
  std::uint64_t k = estimate > 0 ? static_cast<std::uint64_t>(std::ceil(estimate)) : 0;
  while (k > 0 && slot_time(k - 1) >= t)
    --k;
  while (slot_time(k) < t)
    ++k;
  return k;
}

void load_thread::arm_slot_timer() {
  if (slot_timer_armed_ || idle_.empty() || started_ >= share_.requests)
    return;
  auto at = slot_time(started_);
  if (plan_.deadline)
    at = std::min(at, *plan_.deadline);
  slot_timer_armed_ = true;
  slot_timer_.expires_at(at);
  slot_timer_.async_wait([this](const error_code &ec) {
    slot_timer_armed_ = false;
    if (!ec)
      on_slot_timer();
  });
}

void load_thread::on_slot_timer() {
  while (!idle_.empty()) {
    clock::time_point scheduled;
    switch (take(clock::now(), scheduled)) {
    case work::now: {
      client *c = idle_.back(); // the most recently used connection is the warmest
      idle_.pop_back();
      c->start(scheduled);
      break;
    }
    case work::later:
      arm_slot_timer();
      return;
    case work::none:
      retire_idle();
      return;
    }
  }
}

void load_thread::retire(client &c) {
  c.close();
  if (--active_ == 0) { // nothing left to run: let ioc_.run() return
    slot_timer_.cancel();
    sweep_timer_.cancel();
  }
}

void load_thread::retire_idle() {
  auto idle = std::move(idle_);
  idle_.clear();
  for (client *c : idle)
    retire(*c);
}

// One periodic sweep enforces every timeout: cheaper than a timer per request.
void load_thread::arm_sweep() {
  const auto period = std::clamp<clock::duration>(plan_.timeout / 20, std::chrono::milliseconds(1),
                                                  std::chrono::milliseconds(100));
  sweep_timer_.expires_after(period);
  sweep_timer_.async_wait([this](const error_code &ec) {
    if (ec || active_ == 0)
      return;
    sweep(clock::now());
    if (active_ > 0)
      arm_sweep();
  });
}

void load_thread::sweep(clock::time_point now) {
  // After the deadline, in-flight requests get at most one timeout more.
  const bool over = plan_.deadline && now - *plan_.deadline >= plan_.timeout;
  // The queue is in arrival order, so the longest waiting are in front.
  while (!connect_queue_.empty() && connect_queue_.front()->connect_overdue(now)) {
    client *c = connect_queue_.front();
    connect_queue_.pop_front();
    c->give_up_connect(now); // may queue a new request at the back
  }
  for (auto &c : clients_)
    c->check_timeout(now, over);
}

} // namespace

raw_stats run_worker(const plan &p, const share &s, live_counters &live) {
  load_thread t(p, s, live);
  return t.run();
}

} // namespace loadgen
