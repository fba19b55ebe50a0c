#pragma once
// Which headers cross the proxy in each direction. Pure functions over header maps.
#include <boost/beast/http/fields.hpp>
#include <ostream> // boost/core/detail/string_view.hpp needs it

#include <string>
#include <string_view>

namespace proxy {

namespace http = boost::beast::http;

/// The credential the proxy adds to an upstream request.
struct upstream_auth {
  enum class scheme { api_key, bearer } kind = scheme::api_key;
  std::string secret;
  bool oauth = false; ///< an OAuth access token: needs the oauth beta flag
};

/// The beta flag the upstream requires with OAuth access tokens.
inline constexpr std::string_view oauth_beta = "oauth-2025-04-20";
/// Sent only when the client named no API version.
inline constexpr std::string_view default_anthropic_version = "2023-06-01";

/// True for headers that describe one hop rather than the message (RFC 9110 7.6.1).
bool is_hop_by_hop(std::string_view name);

/// The client's headers as they go upstream: end-to-end headers pass through unchanged; hop-by-hop
/// headers, host, content-length, cookies, accept-encoding (we must read what we relay) and the
/// client's own credentials are dropped; our credential is added, and for OAuth the beta flag is
/// merged into the client's anthropic-beta list.
http::fields upstream_request_headers(const http::fields &client, const upstream_auth &auth);

/// The upstream's response headers as they go to the client: everything end-to-end except
/// framing and cookies (the proxy sets its own framing).
void copy_response_headers(const http::fields &upstream, http::fields &out);

/// Every anthropic-beta value (repeated headers and comma lists) with `extra` added once.
std::string merge_betas(const http::fields &client, std::string_view extra);

/// Does the client present `key` as x-api-key or as a Bearer token? Compared in constant time.
bool client_key_matches(const http::fields &client, std::string_view key);

/// Constant-time equality for secrets.
bool secure_equals(std::string_view a, std::string_view b);

} // namespace proxy
