#include "io/client_link.hpp"

#include "policy/header_policy.hpp"

namespace proxy {

client_link::client_link(tcp::socket socket, std::size_t worker)
    : socket_(std::move(socket)), deadline_(socket_), wakeup_(socket_.get_executor()),
      worker_(worker) {
  error_code ignored;
  // Only our own write_some() calls see this: they must never block the network thread.
  socket_.non_blocking(true, ignored);
}

void client_link::start_reading(std::size_t max_buffered) {
  max_buffered_ = max_buffered;
  read_next();
}

void client_link::read_next() {
  if (reading_ || input_ended_ || buffer_.size() >= max_buffered_)
    return;
  reading_ = true;
  socket_.async_read_some(
      net::buffer(incoming_),
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void client_link::on_read(error_code ec, std::size_t n) {
  reading_ = false;
  net::buffer_copy(buffer_.prepare(n), net::buffer(incoming_.data(), n));
  buffer_.commit(n);
  received_ += n;
  if (!ec && n == incoming_.size()) {
    // It filled up: more is likely there. Take it now, straight into the parsing buffer.
    auto room =
        std::min<std::size_t>(64 * 1024, max_buffered_ - std::min(max_buffered_, buffer_.size()));
    if (room > 0) {
      auto more = socket_.read_some(buffer_.prepare(room), ec);
      buffer_.commit(more);
      received_ += more;
      if (ec == net::error::would_block)
        ec = {};
    }
  }
  if (ec) {
    input_ended_ = true;
    input_error_ = deadline_.expired() ? error_code(beast::error::timeout) : ec;
    if (auto notify = std::exchange(on_input_end_, nullptr))
      notify();
  } else {
    read_next();
  }
  wake();
}

void client_link::consumed() {
  if (buffer_.size() == 0)
    buffer_.shrink_to_fit(); // nothing left to parse: give the memory back
  read_next();
}

task<error_code> client_link::wait_input(steady_clock::time_point deadline) {
  auto seen = received_;
  deadline_.set(deadline, weak_from_this());
  while (received_ == seen && !input_ended_) {
    waiting_ = true;
    wakeup_.expires_at(steady_clock::time_point::max());
    co_await wakeup_.async_wait(use_tuple);
    waiting_ = false;
  }
  deadline_.clear();
  co_return received_ != seen ? error_code{} : input_error_;
}

void client_link::on_input_end(std::function<void()> f) {
  if (f && input_ended_)
    f(); // already over
  else
    on_input_end_ = std::move(f);
}

void client_link::close() {
  error_code ignored;
  deadline_.cancel();
  socket_.close(ignored);
}

void client_link::cut_off() {
  cut_off_ = true;
  if (auto notify = std::exchange(on_input_end_, nullptr))
    notify();
}

client_link::sent client_link::send_now(std::span<const net::const_buffer> buffers) {
  std::size_t total = net::buffer_size(buffers);
  error_code ec;
  std::size_t done = socket_.write_some(buffers, ec);
  if (done == total)
    return sent::all;
  if (ec && ec != net::error::would_block)
    return sent::failed;
  // The client is slower than we are: keep a copy of the rest until it has read it.
  unsent_.reserve(total - done);
  std::size_t skip = done;
  for (auto b : buffers) {
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    b += skip;
    skip = 0;
    unsent_.append(static_cast<const char *>(b.data()), b.size());
  }
  return sent::rest_kept;
}

task<bool> client_link::send_rest() {
  deadline_.set(steady_clock::now() + write_timeout, weak_from_this());
  auto [ec, n] = co_await net::async_write(socket_, net::buffer(unsent_), use_tuple);
  deadline_.clear();
  std::string().swap(unsent_); // a quiet stream holds no copy
  co_return !ec && !deadline_.expired();
}

task<bool> client_link::send(std::span<const net::const_buffer> buffers) {
  switch (send_now(buffers)) {
  case sent::all:
    co_return true;
  case sent::failed:
    co_return false;
  case sent::rest_kept:
    break;
  }
  co_return co_await send_rest();
}

template <class F> void client_link::on_own_thread(F f) {
  auto &ctx =
      static_cast<net::io_context &>(net::query(wakeup_.get_executor(), net::execution::context));
  if (ctx.stopped())
    return; // shutting down: the read loop is gone or about to be
  if (ctx.get_executor().running_in_this_thread())
    f(); // the usual case: the session ran on this connection's thread
  else
    net::post(ctx, std::move(f));
}

void client_link::wake() {
  if (waiting_)
    wakeup_.cancel();
}

void client_link::submit(client_work work) {
  on_own_thread([self = shared_from_this(), work = std::move(work)]() mutable {
    self->work_.push_back(std::move(work));
    self->wake();
  });
}

void client_link::finish(std::uint64_t serial) {
  on_own_thread([self = shared_from_this(), serial] {
    if (serial != self->serial_)
      return; // that request is over already
    self->finished_ = true;
    self->wake();
  });
}

task<client_work> client_link::next_work() {
  while (work_.empty() && !finished_) {
    waiting_ = true;
    wakeup_.expires_at(steady_clock::time_point::max());
    co_await wakeup_.async_wait(use_tuple);
    waiting_ = false;
  }
  if (!work_.empty()) {
    auto work = std::move(work_.front());
    work_.pop_front();
    co_return work;
  }
  finished_ = false; // ready for the next request's session
  ++serial_;
  co_return client_work{};
}

task<bool> write_response(client_link &client, unsigned status, std::string_view body,
                          std::string_view content_type, std::string_view extra_head) {
  std::string head;
  head.reserve(256);
  append_status_line(head, client.version, status);
  append_field(head, "Content-Type", content_type);
  head.append(extra_head);
  if (client.body_unread)
    client.keep_alive = false;
  end_response_head(head, client.version, body_framing::length, body.size(), client.keep_alive);
  client.response_started = true;
  std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(body)};
  co_return co_await client.send(buffers);
}

task<bool> write_error(client_link &client, const api_error &err, std::string_view request_id) {
  std::string extra;
  append_field(extra, "request-id", request_id);
  if (err.status == 529 || err.status == 503)
    append_field(extra, "retry-after", err.status == 529 ? "1" : "5");
  co_return co_await write_response(client, err.status, error_body(err, request_id),
                                    "application/json", extra);
}

} // namespace proxy
