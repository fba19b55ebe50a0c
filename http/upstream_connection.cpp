#include "http/upstream_connection.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>

#include <openssl/ssl.h>
#include <poll.h>

namespace proxy {

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
  return ctx;
}

upstream_connection::upstream_connection(net::any_io_executor executor, endpoint_url url,
                                         std::shared_ptr<ssl::context> tls, std::size_t worker,
                                         std::uint64_t id)
    : executor_(executor), stream_(std::in_place, executor, *tls), url_(std::move(url)),
      tls_(std::move(tls)), worker_(worker), id_(id) {}

task<std::optional<api_error>> upstream_connection::connect(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  tcp::resolver resolver(executor());
  // The resolver has no deadline of its own; a timer cancels it.
  net::steady_timer guard(executor(), deadline);
  guard.async_wait([&resolver](error_code ec) {
    if (!ec)
      resolver.cancel();
  });
  auto [rec, endpoints] = co_await resolver.async_resolve(url_.host, url_.port, use_tuple);
  guard.cancel();
  if (rec == net::error::operation_aborted)
    co_return make_api_error(504, "upstream " + url_.host + " could not be resolved in time");
  if (rec)
    co_return make_api_error(502,
                             "upstream " + url_.host + " could not be resolved: " + rec.message());

  tcp().expires_at(deadline);
  auto [cec, ep] = co_await tcp().async_connect(endpoints, use_tuple);
  (void)ep;
  if (cec == beast::error::timeout)
    co_return make_api_error(504, "connecting to the upstream timed out");
  if (cec)
    co_return make_api_error(502, "upstream unreachable: " + cec.message());
  tcp().socket().set_option(tcp::no_delay(true));

  if (url_.tls) {
    // SNI, so a server with many names presents the right certificate, and a check that the
    // certificate names the host we meant (OpenSSL verifies only the chain by default).
    error_code addr_ec;
    net::ip::make_address(url_.host, addr_ec);
    if (addr_ec && !SSL_set_tlsext_host_name(stream_->native_handle(), url_.host.c_str()))
      co_return make_api_error(502, "cannot set TLS server name");
    stream_->set_verify_callback(ssl::host_name_verification(url_.host));
    auto [hec] = co_await stream_->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec == beast::error::timeout)
      co_return make_api_error(504, "TLS handshake with the upstream timed out");
    if (hec)
      co_return make_api_error(502, "TLS handshake with the upstream failed: " + hec.message());
  }
  tcp().expires_never();
  connected_ = true;
  co_return std::nullopt;
}

void upstream_connection::close() {
  connected_ = false;
  error_code ec;
  tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
  tcp().close();
}

bool upstream_connection::idle_and_alive() {
  if (!connected_ || buffer_.size() > 0)
    return false;
  pollfd pfd{};
  pfd.fd = tcp().socket().native_handle();
  pfd.events = POLLIN | POLLRDHUP;
  // Readable while idle means EOF, a reset, a TLS close_notify or stray bytes: unusable.
  return ::poll(&pfd, 1, 0) == 0;
}

void upstream_connection::reset() {
  close();
  buffer_.clear();
  // An SSL session object cannot be reused for a new handshake: make a new stream.
  stream_.emplace(executor_, *tls_);
}

void upstream_connection::close_soon() {
  net::post(executor(), [self = shared_from_this()] { self->close(); });
}

} // namespace proxy
