#include "policy/request_check.hpp"

#include <catch2/catch.hpp>

using namespace proxy;
using boost::beast::http::verb;

TEST_CASE("routes") {
  CHECK(classify(verb::get, "/health", true) == route::health);
  CHECK(classify(verb::post, "/v1/messages", true) == route::messages);
  CHECK(classify(verb::post, "/v1/messages?beta=true", true) == route::messages);
  CHECK(classify(verb::post, "/v1/messages/count_tokens", true) == route::count_tokens);
  CHECK(classify(verb::post, "/v1/chat/completions", true) == route::chat_completions);
  CHECK(classify(verb::get, "/v1/chat/completions", true) == route::method_not_allowed);
  CHECK(classify(verb::get, "/metrics", true) == route::metrics);
  CHECK(std::string(route_name(route::chat_completions)) == "chat_completions");
  CHECK(classify(verb::get, "/v1/models", true) == route::models);
  CHECK(classify(verb::get, "/v1/models?limit=2", true) == route::models);
  CHECK(classify(verb::get, "/v1/models/claude-sonnet-4-6", true) == route::models);
  CHECK(classify(verb::get, "/v1/models/a/b", true) == route::not_found);
  CHECK(classify(verb::get, "/v1/messages", true) == route::method_not_allowed);
  CHECK(classify(verb::delete_, "/health", true) == route::method_not_allowed);
  CHECK(classify(verb::post, "/v1/models", true) == route::method_not_allowed);
  CHECK(classify(verb::get, "/", true) == route::not_found);
  CHECK(classify(verb::post, "/v1/complete", true) == route::not_found);
  CHECK(classify(verb::post, "/admin/credentials", true) == route::admin_credentials);
  CHECK(classify(verb::get, "/admin/credentials", true) == route::method_not_allowed);
}

TEST_CASE("without an admin key the admin route does not exist, whatever the method") {
  CHECK(classify(verb::post, "/admin/credentials", false) == route::not_found);
  CHECK(classify(verb::get, "/admin/credentials", false) == route::not_found);
  CHECK(classify(verb::delete_, "/admin/credentials", false) == route::not_found);
}

TEST_CASE("only canonical paths name a route: dot segments and encodings are not found") {
  for (const char *target :
       {"/v1/models/..", "/v1/models/.", "/v1/models/%2e%2e", "/v1/models/%2E%2E",
        "/v1/models/..%2f..%2fv1%2forganizations", "/v1/models/a%2fb", "//v1/messages",
        "/v1//messages", "/v1/messages/", "/v1/./messages", "/v1/../v1/messages", "/v1/models/a\\b",
        "/v1/models/%61", "v1/messages", "", "/v1/models/a;b", "/health/", "/./health"}) {
    INFO(target);
    CHECK(classify(verb::get, target, true) == route::not_found);
    CHECK(classify(verb::post, target, true) == route::not_found);
  }
  CHECK(canonical_path("/v1/models/claude-3.5_x~y"));
  CHECK_FALSE(canonical_path("/v1/models/.."));
  CHECK_FALSE(canonical_path("/v1/models/%2e%2e"));
  CHECK(classify(verb::get, "/v1/models/..?x=1", true) == route::not_found);
  CHECK(classify(verb::get, "/v1/models/m?path=../..", true) == route::models);
}

TEST_CASE("which routes read a body") {
  CHECK(takes_body(route::messages));
  CHECK(takes_body(route::count_tokens));
  CHECK(takes_body(route::admin_credentials));
  CHECK_FALSE(takes_body(route::health));
  CHECK_FALSE(takes_body(route::models));
  CHECK_FALSE(takes_body(route::not_found));
  CHECK_FALSE(takes_body(route::method_not_allowed));
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

TEST_CASE("404s for base-URL mistakes say which base URL to use") {
  const std::string origin = "http://127.0.0.1:8080";
  for (auto path : {"/messages", "/messages/count_tokens", "/models", "/models/claude-x",
                    "/chat/completions"}) {
    CAPTURE(path);
    auto m = not_found_message(path, origin);
    CHECK(m.rfind(std::string("Not found: ") + path + ". ", 0) == 0);
    CHECK(m.find("http://127.0.0.1:8080/v1 for clients that expect it there") != std::string::npos);
    CHECK(m.find("or http://127.0.0.1:8080 for clients that add /v1 themselves") !=
          std::string::npos);
  }
  auto twice = not_found_message("/v1/v1/messages?beta=true", origin);
  CHECK(twice == "Not found: /v1/v1/messages. The client added /v1 to a base URL that already "
                 "ends in /v1: for this client use the base URL http://127.0.0.1:8080 (without "
                 "/v1).");
  CHECK(not_found_message("/v2/other", origin) == "Not found: /v2/other");
  CHECK(not_found_message("/messagesx", origin) == "Not found: /messagesx");
}
