#include "policy/request_check.hpp"

#include <catch2/catch.hpp>

using namespace proxy;
using boost::beast::http::verb;

TEST_CASE("routes") {
  CHECK(classify(verb::get, "/health") == route::health);
  CHECK(classify(verb::post, "/v1/messages") == route::messages);
  CHECK(classify(verb::post, "/v1/messages?beta=true") == route::messages);
  CHECK(classify(verb::post, "/v1/messages/count_tokens") == route::count_tokens);
  CHECK(classify(verb::get, "/v1/models") == route::models);
  CHECK(classify(verb::get, "/v1/models?limit=2") == route::models);
  CHECK(classify(verb::get, "/v1/models/claude-sonnet-4-6") == route::models);
  CHECK(classify(verb::get, "/v1/models/a/b") == route::not_found);
  CHECK(classify(verb::get, "/v1/messages") == route::method_not_allowed);
  CHECK(classify(verb::delete_, "/health") == route::method_not_allowed);
  CHECK(classify(verb::post, "/v1/models") == route::method_not_allowed);
  CHECK(classify(verb::get, "/") == route::not_found);
  CHECK(classify(verb::post, "/v1/complete") == route::not_found);
}

TEST_CASE("message bodies: what is read and what is refused") {
  auto ok = check_message_body("application/json; charset=utf-8",
                               R"({"model":"m","messages":[],"stream":true,"new_field":1})");
  REQUIRE(std::holds_alternative<message_facts>(ok));
  CHECK(std::get<message_facts>(ok).model == "m");
  CHECK(std::get<message_facts>(ok).stream);

  auto error_of = [](std::string_view ct, std::string_view body) {
    auto r = check_message_body(ct, body);
    REQUIRE(std::holds_alternative<api_error>(r));
    return std::get<api_error>(r);
  };
  CHECK(error_of("application/json", "{").status == 400);
  CHECK(error_of("application/json", "{").type == "invalid_request_error");
  CHECK(error_of("application/json", "{").message.find("not valid JSON") != std::string::npos);
  CHECK(error_of("application/json", "[]").message.find("object") != std::string::npos);
  CHECK(error_of("application/json", R"({"messages":[]})").message.find("model") == 0);
  CHECK(error_of("application/json", R"({"model":"","messages":[]})").message.find("model") == 0);
  CHECK(error_of("application/json", R"({"model":"m"})").message.find("messages") == 0);
  CHECK(error_of("application/json", R"({"model":"m","messages":{}})").message.find("messages") ==
        0);
  CHECK(error_of("text/plain", R"({"model":"m","messages":[]})").message.find("Content-Type") == 0);
  CHECK(error_of("", R"({"model":"m","messages":[]})").status == 400);
}

TEST_CASE("deeply nested JSON is parsed without recursion, so it cannot exhaust the stack") {
  constexpr int depth = 200000;
  std::string body =
      R"({"model":"m","messages":[)" + std::string(depth, '[') + std::string(depth, ']') + "]}";
  auto r = check_message_body("application/json", body);
  REQUIRE(std::holds_alternative<message_facts>(r));
  CHECK(std::get<message_facts>(r).model == "m");
}
