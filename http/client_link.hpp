#pragma once
// The client side of one HTTP/1.1 connection, as the rest of the proxy sees it: the stream to
// write the response to, the read buffer (pipelined bytes must not be lost), and the signal a
// session uses to hand the connection back to the frontend's read loop.
#include "http/net.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace proxy {

class client_link : public std::enable_shared_from_this<client_link> {
public:
  client_link(tcp::socket socket, std::size_t worker)
      : stream_(std::move(socket)), done_(stream_.get_executor()), worker_(worker) {}

  beast::tcp_stream &stream() { return stream_; }
  beast::flat_buffer &buffer() { return buffer_; }
  net::any_io_executor executor() { return stream_.get_executor(); }
  std::size_t worker() const { return worker_; }

  /// Facts of the request being served.
  unsigned version = 11;
  bool keep_alive = true;
  bool response_started = false; ///< bytes of a response went out: no error response possible
  std::chrono::seconds write_timeout{60};

  /// Called (from any thread) when the session is done with this connection.
  void finish() {
    net::post(executor(), [self = shared_from_this()] {
      self->finished_ = true;
      self->done_.cancel();
    });
  }
  /// Waits on the connection's executor until finish() was called.
  task<> wait_finished() {
    while (!finished_) {
      done_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await done_.async_wait(use_tuple);
    }
    finished_ = false;
  }

private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  net::steady_timer done_;
  std::size_t worker_;
  bool finished_ = false;
};

} // namespace proxy
