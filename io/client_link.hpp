#pragma once
// The client side of one HTTP/1.1 connection, as the rest of the proxy sees it: the stream to
// write the response to, the read buffer (pipelined bytes must not be lost), and the signal a
// session uses to hand the connection back to the server's read loop.
#include "io/net.hpp"
#include "policy/api_error.hpp"

#include <chrono>
#include <memory>
#include <span>
#include <string>

namespace proxy {

class client_link : public std::enable_shared_from_this<client_link> {
public:
  client_link(tcp::socket socket, std::size_t worker);

  beast::tcp_stream &stream() { return stream_; }
  beast::flat_buffer &buffer() { return buffer_; }
  net::any_io_executor executor() { return stream_.get_executor(); }
  std::size_t worker() const { return worker_; }

  /// Facts of the request being served.
  unsigned version = 11;
  bool keep_alive = true;
  bool response_started = false; ///< bytes of a response went out: no error response possible
  std::chrono::seconds write_timeout{60};

  /// Sends `buffers` completely. Tries once without waiting (the usual case: the kernel takes it
  /// all, nothing is copied); what is left is copied and written as the client reads it, within
  /// write_timeout. Returns false when the client is gone.
  task<bool> send(std::span<const net::const_buffer> buffers);

  /// Called when the session is done with this connection (from any thread).
  void finish();
  /// Waits on the connection's executor until finish() was called.
  task<> wait_finished();

private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  net::steady_timer done_;
  std::size_t worker_;
  bool finished_ = false;
};

/// Writes a complete response the proxy made itself. Returns false when the client is gone.
/// `extra_head` holds extra "name: value\r\n" lines.
task<bool> write_response(client_link &client, unsigned status, std::string_view body,
                          std::string_view content_type, std::string_view extra_head = {});

/// An Anthropic-shaped error response with a request-id header (and retry-after for 503/529).
task<bool> write_error(client_link &client, const api_error &err, std::string_view request_id);

} // namespace proxy
