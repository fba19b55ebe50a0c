#include "io/client_link.hpp"

#include "policy/header_policy.hpp"

namespace proxy {

client_link::client_link(tcp::socket socket, std::size_t worker)
    : stream_(std::move(socket)), done_(stream_.get_executor()), worker_(worker) {
  error_code ignored;
  // Only our own write_some() calls see this: they must never block the network thread.
  stream_.socket().non_blocking(true, ignored);
}

task<bool> client_link::send(std::span<const net::const_buffer> buffers) {
  std::size_t total = net::buffer_size(buffers);
  error_code ec;
  std::size_t sent = stream_.socket().write_some(buffers, ec);
  if (sent == total)
    co_return true;
  if (ec && ec != net::error::would_block)
    co_return false;
  // The client is slower than we are: keep a copy of the rest until it has read it.
  std::string rest;
  rest.reserve(total - sent);
  std::size_t skip = sent;
  for (auto b : buffers) {
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    b += skip;
    skip = 0;
    rest.append(static_cast<const char *>(b.data()), b.size());
  }
  stream_.expires_after(write_timeout);
  std::tie(ec, std::ignore) = co_await net::async_write(stream_, net::buffer(rest), use_tuple);
  co_return !ec;
}

void client_link::finish() {
  auto mark = [self = shared_from_this()] {
    self->finished_ = true;
    self->done_.cancel();
  };
  auto &ctx =
      static_cast<net::io_context &>(net::query(done_.get_executor(), net::execution::context));
  if (ctx.stopped())
    return; // shutting down: the read loop is gone or about to be
  if (ctx.get_executor().running_in_this_thread())
    mark(); // the usual case: the session ran on this connection's thread
  else
    net::post(ctx, std::move(mark));
}

task<> client_link::wait_finished() {
  while (!finished_) {
    done_.expires_at(steady_clock::time_point::max());
    co_await done_.async_wait(use_tuple);
  }
  finished_ = false;
}

task<bool> write_response(client_link &client, unsigned status, std::string_view body,
                          std::string_view content_type, std::string_view extra_head) {
  std::string head;
  head.reserve(256);
  append_status_line(head, client.version, status);
  append_field(head, "Content-Type", content_type);
  head.append(extra_head);
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
