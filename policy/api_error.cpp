#include "policy/api_error.hpp"

#include "core/json.hpp"

namespace proxy {

std::string_view error_type_for_status(unsigned status) {
  switch (status) {
  case 400:
  case 405:
  case 415:
  case 431:
    return "invalid_request_error";
  case 401:
    return "authentication_error";
  case 402:
    return "billing_error";
  case 403:
    return "permission_error";
  case 404:
    return "not_found_error";
  case 413:
    return "request_too_large";
  case 429:
    return "rate_limit_error";
  case 504:
    return "timeout_error";
  case 529:
    return "overloaded_error";
  default:
    return "api_error";
  }
}

api_error make_api_error(unsigned status, std::string message) {
  return api_error{status, std::string(error_type_for_status(status)), std::move(message)};
}

std::string error_body(const api_error &err, std::string_view request_id) {
  return write_public_json([&](json_writer &w) {
    w.StartObject();
    json_field(w, "type", "error");
    json_key(w, "error");
    w.StartObject();
    json_field(w, "type", err.type);
    json_field(w, "message", err.message);
    w.EndObject();
    json_field(w, "request_id", request_id);
    w.EndObject();
  });
}

} // namespace proxy
