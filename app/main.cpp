// claude-proxy: an Anthropic-compatible endpoint that holds the upstream credentials.
#include "app/proxy.hpp"
#include "core/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::optional<std::string> getenv_value(const std::string &name) {
  if (const char *v = std::getenv(name.c_str()))
    return std::string(v);
  return std::nullopt;
}

/// GET /health on the configured address; 0 when it answers 200. For container HEALTHCHECKs.
int healthcheck(const proxy::config &cfg) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(5));
  std::string host = cfg.host == "0.0.0.0" ? "127.0.0.1" : cfg.host == "::" ? "::1" : cfg.host;
  boost::system::error_code ec;
  net::ip::tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(host, std::to_string(cfg.port), ec);
  if (!ec)
    stream.connect(endpoints, ec);
  if (ec) {
    std::cerr << "healthcheck: cannot connect: " << ec.message() << "\n";
    return 1;
  }
  http::request<http::empty_body> req{http::verb::get, "/health", 11};
  req.set(http::field::host, host);
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec)
    http::read(stream, buffer, res, ec);
  if (ec) {
    std::cerr << "healthcheck: " << ec.message() << "\n";
    return 1;
  }
  std::cout << res.body() << "\n";
  return res.result_int() == 200 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  using namespace proxy;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_config(args, getenv_value);
  if (!parsed) {
    std::cerr << "claude-proxy: " << parsed.error() << "\n";
    return 2;
  }
  auto &cfg = parsed.value();
  if (cfg.help) {
    std::cout << help_text();
    return 0;
  }
  if (cfg.healthcheck)
    return healthcheck(cfg);

  proxy_app app(cfg);
  auto port = app.start();
  if (!port) {
    std::cerr << "claude-proxy: " << port.error() << "\n";
    return 1;
  }
  log_event("start", [&](json_writer &w) {
    json_field(w, "listen", cfg.host + ":" + std::to_string(port.value()));
    json_field(w, "mode", app.mode());
    json_field(w, "credential", app.credential_description());
    json_field(w, "upstream", app.upstream_url());
    json_field(w, "threads", static_cast<std::uint64_t>(app.threads()));
    json_field(w, "capacity", static_cast<std::uint64_t>(app.capacity()));
    json_field(w, "fd_limit", app.descriptors().soft);
  });
  if (app.mode() == "simulator")
    std::cerr << "\n*** DEMO MODE: no credentials found. Answers come from the bundled upstream "
                 "simulator, not from Anthropic. ***\n*** Set ANTHROPIC_API_KEY (or see the "
                 "README) to proxy for real. ***\n\n";
  if (!is_loopback_host(cfg.host) && cfg.proxy_api_key.empty())
    std::cerr << "*** WARNING: listening on " << cfg.host
              << " without PROXY_API_KEY: anyone who can reach this port can spend your "
                 "credential. ***\n";
  std::cerr << "claude-proxy: " << app.threads() << " network threads, capacity " << app.capacity()
            << " concurrent streams (file descriptor limit " << app.descriptors().soft;
  if (app.descriptors().soft != app.descriptors().soft_before)
    std::cerr << ", raised from " << app.descriptors().soft_before;
  std::cerr << ")\n";
  std::cerr << "claude-proxy listening on http://" << cfg.host << ":" << port.value() << std::endl;

  // Run until SIGINT/SIGTERM (as PID 1 in a container nothing else would handle SIGTERM), then
  // drain: what is in flight may finish within --drain-timeout; a second signal ends it at once.
  net::io_context signals_ctx;
  net::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  int signalled = 0;
  auto count = [&](const boost::system::error_code &ec, int) {
    if (!ec)
      ++signalled;
  };
  signals.async_wait(count);
  signals_ctx.run_one();
  signals_ctx.restart();
  app.drain();
  signals.async_wait(count);
  log_event("drain", [&](json_writer &w) {
    json_field(w, "requests_in_flight", static_cast<std::int64_t>(app.in_flight()));
    json_field(w, "drain_timeout_s", static_cast<std::int64_t>(cfg.drain_timeout.count()));
  });
  using clock = std::chrono::steady_clock;
  auto wait_for_requests = [&](clock::time_point until) {
    while (signalled < 2 && app.in_flight() > 0 && clock::now() < until)
      signals_ctx.run_for(std::chrono::milliseconds(20));
  };
  wait_for_requests(clock::now() + cfg.drain_timeout);
  if (signalled >= 2) {
    log_event("stop", [&](json_writer &w) {
      json_field(w, "forced", true);
      json_field(w, "requests_in_flight", static_cast<std::int64_t>(app.in_flight()));
    });
    std::fflush(stdout);
    std::_Exit(1); // "at once": nothing in flight is waited for
  }
  int cut = app.in_flight();
  if (cut > 0) {
    app.cut_off();
    wait_for_requests(clock::now() + std::chrono::seconds(5));
  }
  log_event("stop", [&](json_writer &w) {
    json_field(w, "requests_cut_off", static_cast<std::int64_t>(cut));
  });
  app.stop();
  return 0;
}
