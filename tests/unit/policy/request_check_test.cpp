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
  CHECK(classify(verb::get, "/", true) == route::root);
  CHECK(classify(verb::post, "/", true) == route::method_not_allowed);
  CHECK(classify(verb::get, "/?x", true) == route::root);
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

TEST_CASE("the API families: each endpoint with its methods, nothing else") {
  struct row {
    verb method;
    const char *target;
    route expected;
  };
  const row rows[] = {
      {verb::post, "/v1/messages/batches", route::batches},
      {verb::get, "/v1/messages/batches?limit=20", route::batches},
      {verb::get, "/v1/messages/batches/msgbatch_01", route::batches},
      {verb::delete_, "/v1/messages/batches/msgbatch_01", route::batches},
      {verb::post, "/v1/messages/batches/msgbatch_01/cancel", route::batches},
      {verb::get, "/v1/messages/batches/msgbatch_01/results", route::batches},
      {verb::post, "/v1/messages/batches?beta=true", route::batches},
      {verb::post, "/v1/messages/batches/msgbatch_01", route::method_not_allowed},
      {verb::get, "/v1/messages/batches/msgbatch_01/cancel", route::method_not_allowed},
      {verb::get, "/v1/messages/batches/a/b/c", route::not_found},
      {verb::post, "/v1/files?beta=true", route::files},
      {verb::get, "/v1/files", route::files},
      {verb::get, "/v1/files/file_01", route::files},
      {verb::delete_, "/v1/files/file_01", route::files},
      {verb::get, "/v1/files/file_01/content", route::files},
      {verb::delete_, "/v1/files/file_01/content", route::method_not_allowed},
      {verb::put, "/v1/files/file_01", route::method_not_allowed},
      {verb::get, "/v1/files/file_01/other", route::not_found},
      {verb::get, "/v1/skills?beta=true", route::skills},
      {verb::post, "/v1/skills/skill_01/versions", route::skills},
      {verb::get, "/v1/skills/skill_01/versions/1759178010641129/content", route::skills},
      {verb::delete_, "/v1/skills/skill_01/versions/1759178010641129", route::skills},
      {verb::post, "/v1/agents", route::agents},
      {verb::post, "/v1/agents/agent_01/archive", route::agents},
      {verb::get, "/v1/sessions/s_1/events/stream", route::agents},
      {verb::delete_, "/v1/memory_stores/m/memories/x", route::agents},
      {verb::delete_, "/v1/agents", route::method_not_allowed},
      {verb::patch, "/v1/agents/agent_01", route::method_not_allowed},
      {verb::get, "/v1/agentsx", route::not_found},
      {verb::get, "/v1/organizations/me", route::not_found}, // the Admin API: not relayed
      {verb::get, "/v1/messages/msg_01", route::not_found},
  };
  for (const auto &r : rows) {
    INFO(boost::beast::http::to_string(r.method) << " " << r.target);
    CHECK(classify(r.method, r.target, false) == r.expected);
  }
}

TEST_CASE("how each route takes a body, and the families' limits") {
  CHECK(body_of(route::messages, verb::post) == body_mode::whole);
  CHECK(body_of(route::count_tokens, verb::post) == body_mode::whole);
  CHECK(body_of(route::chat_completions, verb::post) == body_mode::whole);
  CHECK(body_of(route::admin_credentials, verb::post) == body_mode::whole);
  CHECK(body_of(route::files, verb::post) == body_mode::streamed);
  CHECK(body_of(route::batches, verb::post) == body_mode::streamed);
  CHECK(body_of(route::skills, verb::post) == body_mode::streamed);
  CHECK(body_of(route::agents, verb::post) == body_mode::streamed);
  CHECK(body_of(route::files, verb::get) == body_mode::none);
  CHECK(body_of(route::batches, verb::delete_) == body_mode::none);
  CHECK(body_of(route::health, verb::get) == body_mode::none);
  CHECK(body_of(route::models, verb::get) == body_mode::none);
  CHECK(body_of(route::not_found, verb::post) == body_mode::none);
  CHECK(body_of(route::method_not_allowed, verb::post) == body_mode::none);
  CHECK(body_limit(route::messages) == 32u << 20);
  CHECK(body_limit(route::batches) == 256u << 20);
  CHECK(body_limit(route::files) == 501u << 20);
  CHECK(largest_body_limit() == 501u << 20);
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
