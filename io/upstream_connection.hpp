#pragma once
// One keep-alive connection to the upstream, plain TCP or TLS. Owned by a pool actor's
// bookkeeping, used by one relay at a time, and only ever touched on its own executor.
//
// A read waits with a small buffer of the connection's own (2 KiB: an event, or a small answer,
// fits) and then moves what came into the caller's buffer, usually its thread's, so a quiet
// stream holds little. TLS runs OpenSSL directly on the socket with SSL_MODE_RELEASE_BUFFERS.
#include "io/deadline.hpp"
#include "io/net.hpp"
#include "policy/api_error.hpp"
#include "policy/url.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <span>

typedef struct ssl_st SSL;

namespace proxy {

/// TLS settings for outgoing connections: system CAs, optionally an extra bundle, peer and
/// host-name verification always on, record buffers released while idle.
std::shared_ptr<ssl::context> make_client_tls_context(const std::string &extra_ca_file,
                                                      std::string &error);

/// Where connections go: shared by every connection to the same upstream.
struct upstream_target {
  endpoint_url url;
  std::shared_ptr<ssl::context> tls; ///< used when url.tls
};

/// What a read or write without waiting did: `bytes` moved, or `ec` (would_block: try later).
struct io_result {
  std::size_t bytes = 0;
  error_code ec;
};

class upstream_connection : public std::enable_shared_from_this<upstream_connection> {
public:
  upstream_connection(net::any_io_executor executor, std::shared_ptr<const upstream_target> target,
                      std::size_t worker, std::uint64_t id);
  ~upstream_connection();
  upstream_connection(const upstream_connection &) = delete;
  upstream_connection &operator=(const upstream_connection &) = delete;

  net::any_io_executor executor() { return socket_.get_executor(); }
  std::size_t worker() const { return worker_; }
  std::uint64_t id() const { return id_; }
  const endpoint_url &url() const { return target_->url; }
  bool connected() const { return connected_; }

  /// Resolves, connects and (for https) does the TLS handshake with SNI and verification.
  /// Returns the error the client should see, if any.
  task<std::optional<api_error>> connect(std::chrono::milliseconds timeout);

  /// Waits until bytes arrive, or the deadline passes (beast::error::timeout), then puts what
  /// came into `into`: eof when the upstream closed. `into` is written only after the wait, so it
  /// may be a buffer that others use while this connection waits.
  task<io_result> read(std::span<char> into, steady_clock::time_point deadline);
  /// Writes what the kernel takes of `buffers` now (all of it, usually), without waiting: the
  /// bytes written, and would_block when not all went.
  io_result write_now(std::span<const net::const_buffer> buffers);
  /// Writes all of `buffers` in order, waiting as needed until the deadline.
  task<error_code> write_all(std::span<const net::const_buffer> buffers,
                             steady_clock::time_point deadline);

  /// For a pooled connection about to be reused: false when the upstream has closed it (or sent
  /// anything unasked) while it sat idle. Checks without blocking (one poll).
  bool idle_and_alive();

  /// Drops the socket and TLS state so the next connect() starts afresh.
  void reset() { close(); }

  /// Closes the socket at once: pending waits end with an error. Must run on executor(); use
  /// close_soon() from elsewhere.
  void close();
  void close_soon();

  steady_clock::time_point idle_since{};

private:
  /// Reads what is there into `into`, without waiting.
  io_result read_some(std::span<char> into);
  io_result write_some(net::const_buffer buffer);
  task<error_code> wait(tcp::socket::wait_type type, steady_clock::time_point deadline);
  task<std::optional<api_error>> handshake(steady_clock::time_point deadline);

  tcp::socket socket_;
  /// What a plain read waits with: an Asio read queued with a buffer needs no epoll_ctl (a bare
  /// wait does), and none at all after the last read drained the socket.
  std::unique_ptr<char[]> wait_buffer_;
  SSL *ssl_ = nullptr;
  bool ssl_wants_write_ = false; ///< the last TLS read needs the socket writable to go on
  lazy_deadline deadline_;
  std::shared_ptr<const upstream_target> target_;
  std::size_t worker_;
  std::uint64_t id_;
  bool connected_ = false;
};

} // namespace proxy
