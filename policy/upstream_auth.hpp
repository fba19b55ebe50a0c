#pragma once
// The credential the proxy adds to an upstream request.
#include <string>
#include <string_view>

namespace proxy {

struct upstream_auth {
  enum class scheme { api_key, bearer } kind = scheme::api_key;
  std::string secret;
  bool oauth = false; ///< an OAuth access token: needs the oauth beta flag
};

/// The beta flag the upstream requires with OAuth access tokens.
inline constexpr std::string_view oauth_beta = "oauth-2025-04-20";
/// Sent only when the client named no API version.
inline constexpr std::string_view default_anthropic_version = "2023-06-01";

} // namespace proxy
