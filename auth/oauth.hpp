#pragma once
// The OAuth refresh_token grant: the request we send and how we read the answer. Pure functions.
#include "auth/credentials.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace proxy {

/// Why a refresh did not produce tokens. Messages never contain a token.
struct refresh_failure {
  bool permanent = false; ///< a new login is needed (invalid_grant and friends)
  std::string message;
  std::chrono::seconds retry_after{0}; ///< from the token endpoint, when it said
};

using refresh_outcome = std::variant<oauth_tokens, refresh_failure>;

std::string refresh_request_body(std::string_view refresh_token, std::string_view client_id);

/// Reads the token endpoint's answer. A missing refresh_token means the old one stays valid.
refresh_outcome parse_refresh_response(unsigned status, std::string_view body,
                                       std::string_view retry_after,
                                       const std::string &old_refresh_token, std::int64_t now_ms);

} // namespace proxy
