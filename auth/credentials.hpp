#pragma once
// The Claude Code credential format: parsing it, and writing a rotated pair back into it while
// keeping every other key. Pure functions.
#include "core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace proxy {

struct oauth_tokens {
  std::string access_token;
  std::string refresh_token;      ///< empty for a long-lived token that cannot be refreshed
  std::int64_t expires_at_ms = 0; ///< 0 = unknown / does not expire
};

/// Parses `{"claudeAiOauth":{"accessToken","refreshToken","expiresAt",...}}`, given as raw JSON
/// or as hex-encoded JSON (as the macOS keychain may hold it). Errors never quote the input.
result<oauth_tokens> parse_claude_credentials(std::string_view text);

/// The key of `{"api_key":"..."}`, a rotated upstream API key pushed to the admin route: one
/// token of visible ASCII (it becomes a header value). Errors never quote the input.
result<std::string> parse_api_key_push(std::string_view text);

/// `original` with accessToken, refreshToken and expiresAt replaced and all other keys kept.
/// An unparsable or empty original yields a fresh document.
std::string update_claude_credentials(std::string_view original, const oauth_tokens &tokens);

/// Hex text (even length, only hex digits, surrounding whitespace allowed) decoded, else empty.
std::string decode_hex(std::string_view text);

} // namespace proxy
