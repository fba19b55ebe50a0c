#include "io/upstream_connection.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

namespace proxy {
namespace {

constexpr std::size_t wait_buffer_size = 2048;

/// The OpenSSL error behind a failed call, as text (never contains key material).
std::string tls_error_text(SSL *ssl) {
  if (auto verify = SSL_get_verify_result(ssl); verify != X509_V_OK)
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
  if (auto code = ERR_peek_last_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return buf;
  }
  return "connection closed during the handshake";
}

bool is_ip_address(const std::string &host) {
  error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

} // namespace

std::shared_ptr<ssl::context> make_client_tls_context(const std::string &extra_ca_file,
                                                      std::string &error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) {
    error = "cannot load the system CA store: " + ec.message();
    return nullptr;
  }
  if (!extra_ca_file.empty()) {
    ctx->load_verify_file(extra_ca_file, ec);
    if (ec) {
      error = "cannot load CA file " + extra_ca_file + ": " + ec.message();
      return nullptr;
    }
  }
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // Idle connections give their record buffers back; writes may be retried from a new address.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

upstream_connection::upstream_connection(net::any_io_executor executor,
                                         std::shared_ptr<const upstream_target> target,
                                         std::size_t worker, std::uint64_t id)
    : socket_(executor), deadline_(socket_), target_(std::move(target)), worker_(worker), id_(id) {}

upstream_connection::~upstream_connection() {
  if (ssl_)
    SSL_free(ssl_);
}

task<error_code> upstream_connection::wait(tcp::socket::wait_type type,
                                           steady_clock::time_point deadline) {
  deadline_.set(deadline, weak_from_this());
  auto [ec] = co_await socket_.async_wait(type, use_tuple);
  deadline_.clear();
  if (deadline_.expired())
    co_return beast::error::timeout;
  co_return ec;
}

task<std::optional<api_error>> upstream_connection::connect(std::chrono::milliseconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  const auto &url = target_->url;
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  auto port = static_cast<unsigned short>(std::stoi(url.port));
  if (auto address = net::ip::make_address(url.host, ec); !ec) {
    endpoints.emplace_back(address, port); // nothing to resolve
  } else {
    tcp::resolver resolver(executor());
    // The resolver has no deadline of its own; a timer cancels it.
    net::steady_timer guard(executor(), deadline);
    guard.async_wait([&resolver](error_code ec) {
      if (!ec)
        resolver.cancel();
    });
    auto [rec, results] = co_await resolver.async_resolve(url.host, url.port, use_tuple);
    guard.cancel();
    if (rec == net::error::operation_aborted)
      co_return make_api_error(504, "upstream " + url.host + " could not be resolved in time");
    if (rec)
      co_return make_api_error(502,
                               "upstream " + url.host + " could not be resolved: " + rec.message());
    for (const auto &r : results)
      endpoints.push_back(r.endpoint());
  }

  error_code cec = net::error::host_not_found;
  for (const auto &endpoint : endpoints) {
    socket_.close(ec);
    socket_.open(endpoint.protocol(), ec);
    if (ec) {
      cec = ec;
      continue;
    }
    deadline_.set(deadline, weak_from_this());
    std::tie(cec) = co_await socket_.async_connect(endpoint, use_tuple);
    deadline_.clear();
    if (deadline_.expired())
      co_return make_api_error(504, "connecting to the upstream timed out");
    if (!cec)
      break;
  }
  if (cec)
    co_return make_api_error(502, "upstream unreachable: " + cec.message());
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);

  if (url.tls)
    if (auto err = co_await handshake(deadline))
      co_return err;
  connected_ = true;
  co_return std::nullopt;
}

task<std::optional<api_error>> upstream_connection::handshake(steady_clock::time_point deadline) {
  const auto &host = target_->url.host;
  ssl_ = SSL_new(target_->tls->native_handle());
  if (!ssl_ || SSL_set_fd(ssl_, socket_.native_handle()) != 1)
    co_return make_api_error(502, "cannot set up TLS");
  // SNI, so a server with many names presents the right certificate, and a check that the
  // certificate names the host we meant (OpenSSL verifies only the chain by default).
  if (is_ip_address(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
  }
  SSL_set_connect_state(ssl_);
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    if (r == 1)
      co_return std::nullopt;
    int err = SSL_get_error(ssl_, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
      co_return make_api_error(502,
                               "TLS handshake with the upstream failed: " + tls_error_text(ssl_));
    auto ec = co_await wait(
        err == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write, deadline);
    if (ec == beast::error::timeout)
      co_return make_api_error(504, "TLS handshake with the upstream timed out");
    if (ec)
      co_return make_api_error(502, "TLS handshake with the upstream failed: " + ec.message());
  }
}

io_result upstream_connection::read_some(std::span<char> into) {
  io_result r;
  if (!ssl_) {
    r.bytes = socket_.read_some(net::buffer(into.data(), into.size()), r.ec);
    return r;
  }
  ERR_clear_error();
  int n = SSL_read_ex(ssl_, into.data(), into.size(), &r.bytes) == 1 ? 1 : 0;
  ssl_wants_write_ = false;
  if (n == 1)
    return r;
  switch (SSL_get_error(ssl_, 0)) {
  case SSL_ERROR_WANT_READ:
    r.ec = net::error::would_block;
    break;
  case SSL_ERROR_WANT_WRITE:
    ssl_wants_write_ = true;
    r.ec = net::error::would_block;
    break;
  case SSL_ERROR_ZERO_RETURN:
    r.ec = net::error::eof;
    break;
  default:
    // A connection that ends without close_notify: the upstream cut it short.
    r.ec = ssl::error::stream_truncated;
  }
  return r;
}

task<io_result> upstream_connection::read(std::span<char> into, steady_clock::time_point deadline) {
  if (ssl_) {
    // OpenSSL reads the socket itself: wait for readiness, then let it.
    for (;;) {
      auto r = read_some(into);
      if (r.ec != net::error::would_block)
        co_return r;
      if (auto ec = co_await wait(
              ssl_wants_write_ ? tcp::socket::wait_write : tcp::socket::wait_read, deadline))
        co_return io_result{0, ec};
    }
  }
  if (!wait_buffer_)
    wait_buffer_ = std::make_unique<char[]>(wait_buffer_size);
  deadline_.set(deadline, weak_from_this());
  auto [ec, n] = co_await socket_.async_read_some(
      net::buffer(wait_buffer_.get(), std::min(wait_buffer_size, into.size())), use_tuple);
  deadline_.clear();
  if (ec) // bytes that came as the deadline passed are still bytes: only a wait that ended empty
    co_return io_result{0, deadline_.expired() ? error_code(beast::error::timeout) : ec};
  std::copy_n(wait_buffer_.get(), n, into.begin());
  io_result r{n, {}};
  if (n == wait_buffer_size) {
    // It filled up: more is likely waiting. Take it now, into the caller's (larger) buffer.
    auto more = read_some(into.subspan(n));
    if (!more.ec)
      r.bytes += more.bytes;
  }
  co_return r;
}

io_result upstream_connection::write_some(net::const_buffer buffer) {
  io_result r;
  if (!ssl_) {
    r.bytes = socket_.write_some(buffer, r.ec);
    return r;
  }
  ERR_clear_error();
  if (SSL_write_ex(ssl_, buffer.data(), buffer.size(), &r.bytes) == 1)
    return r;
  int err = SSL_get_error(ssl_, 0);
  r.ec = err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? net::error::would_block
                                                                   : net::error::broken_pipe;
  return r;
}

io_result upstream_connection::write_now(std::span<const net::const_buffer> buffers) {
  io_result r;
  if (!ssl_) {
    r.bytes = socket_.write_some(buffers, r.ec); // one system call, one segment
  } else {
    for (auto b : buffers) {
      while (b.size() > 0) {
        auto w = write_some(b);
        r.bytes += w.bytes;
        b += w.bytes;
        if (w.ec) {
          r.ec = w.ec;
          return r;
        }
      }
    }
  }
  if (!r.ec && r.bytes < net::buffer_size(buffers))
    r.ec = net::error::would_block;
  return r;
}

task<error_code> upstream_connection::write_all(std::span<const net::const_buffer> buffers,
                                                steady_clock::time_point deadline) {
  if (!ssl_) {
    // All of it in one system call (and one segment) when the kernel takes it.
    beast::buffers_suffix<std::span<const net::const_buffer>> rest(buffers);
    while (net::buffer_size(rest) > 0) {
      error_code ec;
      auto n = socket_.write_some(rest, ec);
      rest.consume(n);
      if (ec == net::error::would_block) {
        if (auto wec = co_await wait(tcp::socket::wait_write, deadline))
          co_return wec;
      } else if (ec) {
        co_return ec;
      }
    }
    co_return error_code{};
  }
  for (auto buffer : buffers) {
    while (buffer.size() > 0) {
      auto r = write_some(buffer);
      buffer += r.bytes;
      if (r.ec == net::error::would_block) {
        if (auto ec = co_await wait(tcp::socket::wait_write, deadline))
          co_return ec;
      } else if (r.ec) {
        co_return r.ec;
      }
    }
  }
  co_return error_code{};
}

void upstream_connection::close() {
  connected_ = false;
  error_code ec;
  deadline_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  ssl_wants_write_ = false;
}

bool upstream_connection::idle_and_alive() {
  if (!connected_ || (ssl_ && SSL_has_pending(ssl_)))
    return false;
  // Checked on every reuse, however short the idle time: an upstream may close right after a
  // response (the hostile suite's does), and a request written into a closed connection must
  // not be sent again.
  pollfd pfd{};
  pfd.fd = socket_.native_handle();
  pfd.events = POLLIN | POLLRDHUP;
  // Readable while idle means EOF, a reset, a TLS close_notify or stray bytes: unusable.
  return ::poll(&pfd, 1, 0) == 0;
}

void upstream_connection::close_soon() {
  net::post(executor(), [self = shared_from_this()] { self->close(); });
}

} // namespace proxy
