// claude-proxy: an Anthropic-compatible endpoint that holds the upstream credentials.
#include "app/proxy.hpp"
#include "core/log.hpp"
#include "http/api_error.hpp"

#include <boost/asio/signal_set.hpp>

#include <cstdlib>
#include <iostream>

namespace {

std::optional<std::string> getenv_value(const std::string &name) {
  if (const char *v = std::getenv(name.c_str()))
    return std::string(v);
  return std::nullopt;
}

/// GET /health on the configured address; 0 when it answers 200. For container HEALTHCHECKs.
int healthcheck(const proxy::config &cfg) {
  using namespace proxy;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(5));
  std::string host = cfg.host == "0.0.0.0" ? "127.0.0.1" : cfg.host == "::" ? "::1" : cfg.host;
  error_code ec;
  tcp::resolver resolver(ioc);
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
  log_json("start", "{\"listen\":\"" + json_escape(cfg.host) + ":" + std::to_string(port.value()) +
                        "\",\"mode\":\"" + app.mode() + "\",\"credential\":\"" +
                        json_escape(app.credential_description()) + "\",\"upstream\":\"" +
                        json_escape(app.upstream_url()) + "\"}");
  if (app.mode() == "simulator")
    std::cerr << "\n*** DEMO MODE: no credentials found. Answers come from the bundled upstream "
                 "simulator, not from Anthropic. ***\n*** Set ANTHROPIC_API_KEY (or see the "
                 "README) to proxy for real. ***\n\n";
  if (!is_loopback_host(cfg.host) && cfg.proxy_api_key.empty())
    std::cerr << "*** WARNING: listening on " << cfg.host
              << " without PROXY_API_KEY: anyone who can reach this port can spend your "
                 "credential. ***\n";
  std::cerr << "claude-proxy listening on http://" << cfg.host << ":" << port.value() << std::endl;

  // Run until SIGINT/SIGTERM (as PID 1 in a container nothing else would handle SIGTERM).
  net::io_context signals_ctx;
  net::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([](const error_code &, int) {});
  signals_ctx.run();
  log_json("stop", "{}");
  app.stop();
  return 0;
}
