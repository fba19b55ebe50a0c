#include "policy/api_error.hpp"

#include <catch2/catch.hpp>

using namespace proxy;

TEST_CASE("statuses map to the Anthropic error types") {
  CHECK(error_type_for_status(400) == "invalid_request_error");
  CHECK(error_type_for_status(401) == "authentication_error");
  CHECK(error_type_for_status(402) == "billing_error");
  CHECK(error_type_for_status(403) == "permission_error");
  CHECK(error_type_for_status(404) == "not_found_error");
  CHECK(error_type_for_status(413) == "request_too_large");
  CHECK(error_type_for_status(429) == "rate_limit_error");
  CHECK(error_type_for_status(500) == "api_error");
  CHECK(error_type_for_status(502) == "api_error");
  CHECK(error_type_for_status(504) == "timeout_error");
  CHECK(error_type_for_status(529) == "overloaded_error");
}

TEST_CASE("error bodies have the Anthropic shape and escape their text") {
  auto body = error_body(make_api_error(400, "bad \"x\"\n\x01"), "req_1");
  CHECK(
      body ==
      R"({"type":"error","error":{"type":"invalid_request_error","message":"bad \"x\"\n\u0001"},"request_id":"req_1"})");
}
