#pragma once
// Errors the proxy itself produces, in the Anthropic shape clients already understand.
#include <string>
#include <string_view>

namespace proxy {

struct api_error {
  unsigned status = 500;
  std::string type = "api_error";
  std::string message;
};

/// The Anthropic error type for an HTTP status (400 invalid_request_error, 529 overloaded_error,
/// ...); statuses outside the table map to api_error.
std::string_view error_type_for_status(unsigned status);

/// An error with the type that matches its status.
api_error make_api_error(unsigned status, std::string message);

/// `{"type":"error","error":{"type":..,"message":..},"request_id":..}`.
std::string error_body(const api_error &err, std::string_view request_id);

} // namespace proxy
