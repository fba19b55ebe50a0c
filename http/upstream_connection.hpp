#pragma once
// One keep-alive connection to the upstream, plain TCP or TLS. Owned by the pool actor's
// bookkeeping, used by one relay at a time, and only ever touched on its own executor.
#include "http/api_error.hpp"
#include "http/net.hpp"
#include "http/url.hpp"

#include <chrono>
#include <memory>
#include <optional>

namespace proxy {

/// TLS settings for outgoing connections: system CAs, optionally an extra bundle, peer and
/// host-name verification always on.
std::shared_ptr<ssl::context> make_client_tls_context(const std::string &extra_ca_file,
                                                      std::string &error);

class upstream_connection : public std::enable_shared_from_this<upstream_connection> {
public:
  upstream_connection(net::any_io_executor executor, endpoint_url url,
                      std::shared_ptr<ssl::context> tls, std::size_t worker, std::uint64_t id);

  net::any_io_executor executor() { return executor_; }
  std::size_t worker() const { return worker_; }
  std::uint64_t id() const { return id_; }
  const endpoint_url &url() const { return url_; }
  bool connected() const { return connected_; }

  /// Resolves, connects and (for https) does the TLS handshake with SNI and verification.
  /// Returns the error the client should see, if any.
  task<std::optional<api_error>> connect(std::chrono::milliseconds timeout);

  /// The lowest layer, for timeouts.
  beast::tcp_stream &tcp() { return beast::get_lowest_layer(*stream_); }
  beast::flat_buffer &buffer() { return buffer_; }

  /// Calls `f` with the stream to use: the TLS stream or the plain TCP stream.
  template <class F> auto with_stream(F &&f) {
    return url_.tls ? f(*stream_) : f(stream_->next_layer());
  }

  /// For a pooled connection about to be reused: false when the upstream has closed it (or sent
  /// anything unasked) while it sat idle. Checks without blocking.
  bool idle_and_alive();

  /// Drops the current socket and TLS state so the next connect() starts afresh.
  void reset();

  /// Closes the socket at once: pending operations end with operation_aborted. Must run on
  /// executor(); use close_soon() from elsewhere.
  void close();
  void close_soon();

  std::chrono::steady_clock::time_point idle_since{};

private:
  net::any_io_executor executor_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  endpoint_url url_;
  std::shared_ptr<ssl::context> tls_;
  beast::flat_buffer buffer_;
  std::size_t worker_;
  std::uint64_t id_;
  bool connected_ = false;
};

} // namespace proxy
