#include "auth/credentials.hpp"
#include "auth/oauth.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

using namespace proxy;

namespace {
const std::string raw =
    R"({"claudeAiOauth":{"accessToken":"sk-ant-oat01-A","refreshToken":"sk-ant-ort01-R","expiresAt":1767225600000,"scopes":["user:inference"],"subscriptionType":"max"},"other":{"keep":true}})";

std::string to_hex(const std::string &s) {
  static const char *digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}
} // namespace

TEST_CASE("Claude Code credentials: raw and hex") {
  for (const auto &text : {raw, to_hex(raw) + "\n", "  " + raw + "\n"}) {
    auto t = parse_claude_credentials(text);
    REQUIRE(t);
    CHECK(t->access_token == "sk-ant-oat01-A");
    CHECK(t->refresh_token == "sk-ant-ort01-R");
    CHECK(t->expires_at_ms == 1767225600000);
  }
}

TEST_CASE("malformed credentials give clear errors that never quote the input") {
  auto error_of = [](std::string text) {
    auto r = parse_claude_credentials(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("sk-ant") == std::string::npos);
    return r.error();
  };
  CHECK(error_of("") == "credentials are empty");
  CHECK(error_of("zz-not-hex") == "credentials are neither JSON nor hex-encoded JSON");
  CHECK(error_of("{\"claudeAiOauth\":").find("not valid JSON") != std::string::npos);
  CHECK(error_of("[]") == "credentials must be a JSON object");
  CHECK(error_of(R"({"x":1})") == "credentials have no \"claudeAiOauth\" object");
  CHECK(error_of(R"({"claudeAiOauth":{"refreshToken":"sk-ant-ort01"}})") ==
        "credentials have no claudeAiOauth.accessToken");
  CHECK(error_of(R"({"claudeAiOauth":{"accessToken":"sk-ant-a","expiresAt":"soon"}})")
            .find("expiresAt") != std::string::npos);
  // Found by the credentials fuzzer: a number past a double made the rewrite stop halfway.
  auto rewritten = update_claude_credentials(
      R"({"claudeAiOauth":{"accessToken":"a"},"other":1222222227672e300})", {"n", "r", 7});
  auto reread = parse_claude_credentials(rewritten);
  REQUIRE(reread);
  CHECK(reread->access_token == "n");
  CHECK(reread->refresh_token == "r");
  CHECK(reread->expires_at_ms == 7);
  // Found by the credentials fuzzer: a duplicated claudeAiOauth that is not an object.
  auto deduplicated = parse_claude_credentials(
      update_claude_credentials(R"({"claudeAiOauth":1,"x":2,"claudeAiOauth":3})", {"n", "r", 7}));
  REQUIRE(deduplicated);
  CHECK(deduplicated->access_token == "n");
  // Found by the credentials fuzzer: a double past int64 was converted (undefined behaviour).
  CHECK(error_of(R"({"claudeAiOauth":{"accessToken":"sk-ant-a","expiresAt":176720e200}})")
            .find("out of range") != std::string::npos);
  CHECK(error_of(R"({"claudeAiOauth":{"accessToken":"sk-ant-a","expiresAt":-1e300}})")
            .find("out of range") != std::string::npos);
  CHECK(parse_claude_credentials(
            R"({"claudeAiOauth":{"accessToken":"sk-ant-a","expiresAt":1767225600000.5}})")
            ->expires_at_ms == 1767225600000);
}

TEST_CASE("writing a rotated pair back keeps every other key") {
  auto updated = update_claude_credentials(raw, {"NEW-A", "NEW-R", 42});
  rapidjson::Document doc;
  doc.Parse(updated.c_str());
  REQUIRE(doc.IsObject());
  const auto &o = doc["claudeAiOauth"];
  CHECK(std::string(o["accessToken"].GetString()) == "NEW-A");
  CHECK(std::string(o["refreshToken"].GetString()) == "NEW-R");
  CHECK(o["expiresAt"].GetInt64() == 42);
  CHECK(std::string(o["subscriptionType"].GetString()) == "max");
  CHECK(o["scopes"].Size() == 1);
  CHECK(doc["other"]["keep"].GetBool());
  auto fresh = update_claude_credentials("", {"A", "R", 1});
  CHECK(parse_claude_credentials(fresh)->access_token == "A");
}

TEST_CASE("refresh grant: request and every kind of answer") {
  CHECK(refresh_request_body("rt\"1", "cid") ==
        R"({"grant_type":"refresh_token","refresh_token":"rt\"1","client_id":"cid"})");

  auto ok = parse_refresh_response(
      200, R"({"access_token":"a2","refresh_token":"r2","expires_in":3600,"token_type":"Bearer"})",
      "", "r1", 1000);
  REQUIRE(std::holds_alternative<oauth_tokens>(ok));
  CHECK(std::get<oauth_tokens>(ok).access_token == "a2");
  CHECK(std::get<oauth_tokens>(ok).refresh_token == "r2");
  CHECK(std::get<oauth_tokens>(ok).expires_at_ms == 1000 + 3600 * 1000);

  auto kept = parse_refresh_response(200, R"({"access_token":"a2","expires_in":10})", "", "r1", 0);
  CHECK(std::get<oauth_tokens>(kept).refresh_token == "r1");

  auto grant = parse_refresh_response(
      400, R"({"error":"invalid_grant","error_description":"gone"})", "", "r1", 0);
  REQUIRE(std::holds_alternative<refresh_failure>(grant));
  CHECK(std::get<refresh_failure>(grant).permanent);
  CHECK(std::get<refresh_failure>(grant).message ==
        "token endpoint answered 400 invalid_grant: gone");

  for (auto code : {"invalid_client", "unauthorized_client"})
    CHECK(std::get<refresh_failure>(
              parse_refresh_response(400, std::string(R"({"error":")") + code + "\"}", "", "r", 0))
              .permanent);

  auto busy = parse_refresh_response(429, "{}", "12", "r1", 0);
  CHECK_FALSE(std::get<refresh_failure>(busy).permanent);
  CHECK(std::get<refresh_failure>(busy).retry_after == std::chrono::seconds(12));
  CHECK_FALSE(std::get<refresh_failure>(parse_refresh_response(503, "oops", "", "r", 0)).permanent);
  CHECK_FALSE(std::get<refresh_failure>(parse_refresh_response(200, "{}", "", "r", 0)).permanent);
}

TEST_CASE("a pushed API key: one token of visible ASCII, errors that never quote it") {
  auto ok = parse_api_key_push(R"({"api_key":"sk-ant-api03-abc_DEF-123"})");
  REQUIRE(ok);
  CHECK(ok.value() == "sk-ant-api03-abc_DEF-123");
  const char *bad[] = {
      R"({"api_key":""})",
      R"({"api_key":"sk-secret with space"})",
      R"({"api_key":"sk-secret\r\nx-injected: 1"})",
      R"({"api_key":"sk-secret\u00e9"})",
      R"({"api_key":42})",
      R"({"claudeAiOauth":{}})",
      R"(["sk-secret"])",
      "sk-secret",
  };
  for (const char *text : bad) {
    INFO(text);
    auto r = parse_api_key_push(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("sk-secret") == std::string::npos);
  }
  CHECK_FALSE(parse_api_key_push(R"({"api_key":")" + std::string(1025, 'k') + R"("})"));
}
