#pragma once
// Every setting of the proxy, from flags and environment variables (flags win). Pure: the
// environment is passed in, so tests need not touch the process environment.
#include "core/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace proxy {

struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string upstream_url = "https://api.anthropic.com";
  std::string upstream_ca_file; ///< extra CA bundle for the upstream and the token endpoint
  std::string token_url = "https://platform.claude.com/v1/oauth/token";
  std::string oauth_client_id = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
  std::string credentials_file; ///< default ~/.claude/.credentials.json
  std::chrono::seconds refresh_margin{300};
  std::string proxy_api_key;
  std::string admin_key;            ///< enables POST /admin/credentials (x-admin-key)
  std::string credentials_sync_url; ///< rotated OAuth pairs are POSTed here before use
  std::size_t max_body_bytes = 32u << 20;
  std::size_t max_header_bytes = 64u << 10;
  /// Most upstream connections (and so streams) at once; 0 derives it from the fd limit.
  std::size_t pool_max_connections = 0;
  std::chrono::seconds pool_idle_timeout{30};
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::seconds upstream_timeout{600};    ///< until the response headers arrive
  std::chrono::seconds stream_idle_timeout{300}; ///< silence allowed between body reads
  std::chrono::seconds client_idle_timeout{120}; ///< keep-alive connection waiting for a request
  std::chrono::seconds client_write_timeout{
      60}; ///< a client that reads nothing for this long is dropped
  /// Requests in flight at most (529 overloaded_error beyond); 0 = the stream capacity.
  std::size_t max_in_flight = 0;
  /// After SIGTERM/SIGINT, how long requests in flight may take before they are cut off.
  std::chrono::seconds drain_timeout{300};
  /// A comment line to a stream the upstream left quiet this long; 0 = off.
  std::chrono::seconds sse_keepalive{0};
  int retries = 2;                         ///< retries of one request before its first byte
  std::chrono::seconds retry_max_wait{10}; ///< a longer retry-after is not waited for
  int io_threads = 0;               ///< network threads, which also run the actors; 0: one per CPU
  bool demo = false;                ///< force demo mode (bundled simulator) even with credentials
  bool require_credentials = false; ///< no credential is an error, never demo mode
  bool log_requests = true;
  bool healthcheck = false; ///< probe /health of a running proxy and exit
  bool help = false;

  // Credentials, in the order they are looked for.
  std::string anthropic_api_key;  ///< ANTHROPIC_API_KEY
  std::string oauth_creds_json;   ///< CLAUDE_OAUTH_CREDS (raw or hex JSON)
  std::string oauth_static_token; ///< CLAUDE_CODE_OAUTH_TOKEN
};

using env_lookup = std::function<std::optional<std::string>(const std::string &)>;

/// Parses flags (argv without the program name) over environment values over defaults.
result<config> parse_config(const std::vector<std::string> &args, const env_lookup &env);

/// The --help text: every flag with its environment variable and default.
std::string help_text();

/// Is this address the loopback interface (so no proxy key is needed to be safe)?
bool is_loopback_host(const std::string &host);

} // namespace proxy
