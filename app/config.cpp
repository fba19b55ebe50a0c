#include "app/config.hpp"

#include <charconv>
#include <sstream>

namespace proxy {
namespace {

/// One setting: its flag, its environment variable, a description and how to store a value.
struct option {
  const char *flag;
  const char *env;
  const char *help;
  std::function<std::optional<std::string>(config &, const std::string &)> apply;
  bool is_switch = false;
};

template <class T> std::optional<T> to_number(const std::string &s) {
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return std::nullopt;
  return value;
}

template <class T, class F> auto number(F store, T min_value = 0) {
  return [store, min_value](config &c, const std::string &v) -> std::optional<std::string> {
    auto n = to_number<T>(v);
    if (!n || *n < min_value)
      return "expects a number >= " + std::to_string(min_value) + ", got '" + v + "'";
    store(c, *n);
    return std::nullopt;
  };
}

template <class F> auto text(F store) {
  return [store](config &c, const std::string &v) -> std::optional<std::string> {
    store(c, v);
    return std::nullopt;
  };
}

template <class F> auto boolean(F store) {
  return [store](config &c, const std::string &v) -> std::optional<std::string> {
    if (v == "1" || v == "true" || v == "yes" || v.empty())
      store(c, true);
    else if (v == "0" || v == "false" || v == "no")
      store(c, false);
    else
      return "expects true or false, got '" + v + "'";
    return std::nullopt;
  };
}

const std::vector<option> &options() {
  using s = std::chrono::seconds;
  static const std::vector<option> all = {
      {"--host", "HOST", "address to listen on (default 127.0.0.1; 0.0.0.0 for all)",
       text([](config &c, auto &v) { c.host = v; })},
      {"--port", "PORT", "port to listen on (default 8080; 0 picks a free one)",
       number<unsigned>([](config &c, unsigned v) { c.port = static_cast<std::uint16_t>(v); })},
      {"--upstream", "UPSTREAM_URL", "Anthropic API base URL (default https://api.anthropic.com)",
       text([](config &c, auto &v) { c.upstream_url = v; })},
      {"--upstream-ca-file", "UPSTREAM_CA_FILE",
       "extra PEM CA bundle trusted for the upstream and token endpoint",
       text([](config &c, auto &v) { c.upstream_ca_file = v; })},
      {"--token-url", "OAUTH_TOKEN_URL",
       "OAuth token endpoint (default https://platform.claude.com/v1/oauth/token)",
       text([](config &c, auto &v) { c.token_url = v; })},
      {"--oauth-client-id", "OAUTH_CLIENT_ID", "OAuth client id used for refresh",
       text([](config &c, auto &v) { c.oauth_client_id = v; })},
      {"--credentials-file", "CLAUDE_CREDENTIALS_FILE",
       "Claude Code credentials file (default ~/.claude/.credentials.json)",
       text([](config &c, auto &v) { c.credentials_file = v; })},
      {"--refresh-margin", "REFRESH_MARGIN_SECONDS",
       "refresh OAuth tokens this many seconds before expiry (default 300)",
       number<long>([](config &c, long v) { c.refresh_margin = s(v); })},
      {"--proxy-api-key", "PROXY_API_KEY",
       "key clients must send (x-api-key or Bearer); prefer the env var",
       text([](config &c, auto &v) { c.proxy_api_key = v; })},
      {"--admin-key", "PROXY_ADMIN_KEY",
       "enables POST /admin/credentials (send it as x-admin-key) to swap in fresh OAuth "
       "credentials without a restart; prefer the env var",
       text([](config &c, auto &v) { c.admin_key = v; })},
      {"--credentials-sync-url", "CREDENTIALS_SYNC_URL",
       "POST each rotated OAuth pair (Claude Code JSON) here and wait for 2xx before using it",
       text([](config &c, auto &v) { c.credentials_sync_url = v; })},
      {"--max-body-bytes", "MAX_BODY_BYTES", "largest request body (default 33554432)",
       number<std::size_t>([](config &c, std::size_t v) { c.max_body_bytes = v; }, 1)},
      {"--max-header-bytes", "MAX_HEADER_BYTES", "largest request header block (default 65536)",
       number<std::size_t>([](config &c, std::size_t v) { c.max_header_bytes = v; }, 1024)},
      {"--pool-max-connections", "POOL_MAX_CONNECTIONS",
       "most upstream connections (so streams) open at once (default: what the file descriptor "
       "limit allows, printed at start; a larger value is lowered to that)",
       number<std::size_t>([](config &c, std::size_t v) { c.pool_max_connections = v; }, 1)},
      {"--pool-idle-timeout", "POOL_IDLE_TIMEOUT_SECONDS",
       "close idle upstream connections after this many seconds (default 30)",
       number<long>([](config &c, long v) { c.pool_idle_timeout = s(v); })},
      {"--connect-timeout-ms", "CONNECT_TIMEOUT_MS", "upstream connect+TLS timeout (default 10000)",
       number<long>([](config &c, long v) { c.connect_timeout = std::chrono::milliseconds(v); },
                    1)},
      {"--upstream-timeout", "UPSTREAM_TIMEOUT_SECONDS",
       "wait this long for upstream response headers, then 504 (default 600)",
       number<long>([](config &c, long v) { c.upstream_timeout = s(v); }, 1)},
      {"--stream-idle-timeout", "STREAM_IDLE_TIMEOUT_SECONDS",
       "end a stream silent for this long with an error event (default 300)",
       number<long>([](config &c, long v) { c.stream_idle_timeout = s(v); }, 1)},
      {"--client-idle-timeout", "CLIENT_IDLE_TIMEOUT_SECONDS",
       "close idle client keep-alive connections after this long (default 120)",
       number<long>([](config &c, long v) { c.client_idle_timeout = s(v); }, 1)},
      {"--client-write-timeout", "CLIENT_WRITE_TIMEOUT_SECONDS",
       "drop a client that accepts no bytes for this long (default 60)",
       number<long>([](config &c, long v) { c.client_write_timeout = s(v); }, 1)},
      {"--max-in-flight", "MAX_IN_FLIGHT",
       "requests served at once; beyond it an immediate 529 overloaded_error with retry-after "
       "(default: the stream capacity)",
       number<std::size_t>([](config &c, std::size_t v) { c.max_in_flight = v; }, 1)},
      {"--retries", "UPSTREAM_RETRIES",
       "retries of a request the upstream refused (429, 5xx, 529, overloaded before any content, "
       "a failed connection) while nothing reached the client yet (default 2)",
       number<int>([](config &c, int v) { c.retries = v; })},
      {"--retry-max-wait", "RETRY_MAX_WAIT_SECONDS",
       "longest wait before a retry; an upstream retry-after beyond it is relayed instead "
       "(default 10)",
       number<long>([](config &c, long v) { c.retry_max_wait = s(v); })},
      {"--drain-timeout", "DRAIN_TIMEOUT_SECONDS",
       "after SIGTERM or SIGINT, let requests in flight finish for this long, then end them with "
       "an error event and exit (default 300; a second signal exits at once)",
       number<long>([](config &c, long v) { c.drain_timeout = s(v); })},
      {"--sse-keepalive", "SSE_KEEPALIVE_SECONDS",
       "send an SSE comment (: keep-alive) on a stream the upstream left quiet this long, for "
       "intermediaries that cut idle connections (default 0 = off)",
       number<long>([](config &c, long v) { c.sse_keepalive = s(v); })},
      {"--io-threads", "IO_THREADS",
       "network threads, which also run the actors (default: one per CPU)",
       number<int>([](config &c, int v) { c.io_threads = v; }, 1)},
      {"--demo", "PROXY_DEMO", "serve from the bundled upstream simulator, ignoring credentials",
       boolean([](config &c, bool v) { c.demo = v; }), true},
      {"--require-credentials", "REQUIRE_CREDENTIALS",
       "refuse to start without a credential instead of falling back to demo mode",
       boolean([](config &c, bool v) { c.require_credentials = v; }), true},
      {"--no-request-log", "PROXY_NO_REQUEST_LOG", "do not print one JSON line per request",
       boolean([](config &c, bool v) { c.log_requests = !v; }), true},
      {"--healthcheck", nullptr, "GET /health of the proxy at --host/--port; exit 0 when healthy",
       boolean([](config &c, bool v) { c.healthcheck = v; }), true},
      {"--help", nullptr, "print this text", boolean([](config &c, bool v) { c.help = v; }), true},
  };
  return all;
}

} // namespace

std::string help_text() {
  std::ostringstream out;
  out << "claude-proxy " PROXY_VERSION " - an Anthropic Messages API proxy that holds the "
         "upstream credentials\n\nUsage: claude-proxy [flags]\n\nFlags (environment variable in "
         "brackets; flags win):\n";
  for (const auto &o : options()) {
    out << "  " << o.flag;
    if (!o.is_switch)
      out << " VALUE";
    if (o.env)
      out << "  [" << o.env << "]";
    out << "\n      " << o.help << "\n";
  }
  out << "\nCredentials, first found wins:\n"
         "  ANTHROPIC_API_KEY        an API key, sent upstream as x-api-key (the supported way)\n"
         "  CLAUDE_OAUTH_CREDS       Claude Code credentials JSON (raw or hex); refreshed in "
         "memory\n"
         "  --credentials-file       Claude Code credentials file; refreshed and rewritten in "
         "place\n"
         "  CLAUDE_CODE_OAUTH_TOKEN  a long-lived OAuth access token (no refresh)\n"
         "With none of these the proxy starts in demo mode against its bundled simulator.\n";
  return out.str();
}

result<config> parse_config(const std::vector<std::string> &args, const env_lookup &env) {
  config c;
  if (auto home = env("HOME"))
    c.credentials_file = *home + "/.claude/.credentials.json";
  for (const auto &o : options()) {
    if (!o.env)
      continue;
    if (auto value = env(o.env); value && !value->empty())
      if (auto err = o.apply(c, *value))
        return failure{std::string(o.env) + " " + *err};
  }
  c.anthropic_api_key = env("ANTHROPIC_API_KEY").value_or("");
  c.oauth_creds_json = env("CLAUDE_OAUTH_CREDS").value_or("");
  c.oauth_static_token = env("CLAUDE_CODE_OAUTH_TOKEN").value_or("");

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i], value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const option *match = nullptr;
    for (const auto &o : options())
      if (arg == o.flag)
        match = &o;
    if (arg == "-h")
      match = &options().back();
    if (!match)
      return failure{"unknown flag '" + arg + "' (see --help)"};
    if (!match->is_switch && !has_value) {
      if (i + 1 >= args.size())
        return failure{arg + " needs a value"};
      value = args[++i];
    }
    if (auto err = match->apply(c, value))
      return failure{arg + " " + *err};
  }
  return c;
}

bool is_loopback_host(const std::string &host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

} // namespace proxy
