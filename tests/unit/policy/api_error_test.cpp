#include "policy/api_error.hpp"
#include "policy/quota_policy.hpp"
#include "policy/sse_framer.hpp"

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

TEST_CASE("the extra-usage refusal of third-party subscription use is recognised") {
  const std::string message = "Third-party apps now draw from your extra usage, not your plan "
                              "limits. Enable extra usage to continue.";
  CHECK(is_extra_usage_refusal(400, "invalid_request_error", message));
  CHECK_FALSE(is_extra_usage_refusal(429, "invalid_request_error", message));
  CHECK_FALSE(is_extra_usage_refusal(400, "api_error", message));
  CHECK_FALSE(is_extra_usage_refusal(400, "invalid_request_error", "max_tokens: too large"));
  auto fields = error_of(R"({"type":"error","error":{"type":"invalid_request_error","message":")" +
                         message + R"("}})");
  CHECK(fields.type == "invalid_request_error");
  CHECK(fields.message == message);
  CHECK(error_of("[1]").type.empty());
}
