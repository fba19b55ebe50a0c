// The proxy relaying to the simulator over loopback: bytes, headers, faults, disconnects.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace testing;

namespace {

/// The body bytes a chunked response carried, de-chunked.
std::string dechunk(const std::string &raw) {
  auto pos = raw.find("\r\n\r\n");
  REQUIRE(pos != std::string::npos);
  pos += 4;
  std::string out;
  for (;;) {
    auto eol = raw.find("\r\n", pos);
    REQUIRE(eol != std::string::npos);
    auto size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
    if (size == 0)
      return out;
    out += raw.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
}

} // namespace

TEST_CASE("streams reach the client byte for byte: text, tool_use, thinking") {
  auto r = rig::with_api_key();
  r->start_proxy();
  for (std::string extra :
       {std::string(""),
        std::string(R"(,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}])"),
        std::string(R"(,"thinking":{"type":"enabled","budget_tokens":1024})")}) {
    auto res =
        post_messages(r->port, message_body(true, extra), {{"anthropic-version", "2023-06-01"}});
    REQUIRE(res.status == 200);
    CHECK(res.header("content-type").find("text/event-stream") == 0);
    CHECK_FALSE(res.header("request-id").empty());
    auto sent = r->upstream->requests().back();
    REQUIRE_FALSE(sent.response_body.empty());
    CHECK(res.body == sent.response_body);
    CHECK(res.body.find("event: message_stop") != std::string::npos);
  }
  auto all = r->upstream->requests();
  CHECK(all[1].response_body.find("input_json_delta") != std::string::npos);
  CHECK(all[2].response_body.find("signature_delta") != std::string::npos);
}

TEST_CASE("non-stream answers, count_tokens and models are relayed unchanged") {
  auto r = rig::with_api_key();
  r->start_proxy();
  auto res = post_messages(r->port, message_body(false));
  REQUIRE(res.status == 200);
  CHECK(res.body == r->upstream->requests().back().response_body);
  CHECK(res.body.find("\"type\":\"message\"") != std::string::npos);

  auto count =
      testing::call(r->port, http::verb::post, "/v1/messages/count_tokens",
                    R"({"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]})",
                    {{"content-type", "application/json"}});
  CHECK(count.status == 200);
  CHECK(count.body.find("\"input_tokens\":") != std::string::npos);

  auto models = testing::call(r->port, http::verb::get, "/v1/models?limit=5");
  CHECK(models.status == 200);
  CHECK(models.body.find("claude-sonnet-4-6") != std::string::npos);
  CHECK(r->upstream->requests().back().target == "/v1/models?limit=5");
  auto one = testing::call(r->port, http::verb::get, "/v1/models/claude-opus-4-7");
  CHECK(one.status == 200);
  auto missing = testing::call(r->port, http::verb::get, "/v1/models/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body.find("not_found_error") != std::string::npos);
}

TEST_CASE("the OpenAI-compatible chat completions pass through, streamed and not") {
  auto r = rig::with_api_key();
  r->cfg.proxy_api_key = "proxy-key-for-chat";
  r->start_proxy();
  for (bool stream : {false, true}) {
    CAPTURE(stream);
    std::string body = std::string(R"({"model":"claude-sonnet-4-6","stream":)") +
                       (stream ? "true" : "false") +
                       R"(,"messages":[{"role":"user","content":"Hello"}]})";
    // The openai SDK sends its key as a bearer token.
    auto res = call(
        r->port, http::verb::post, "/v1/chat/completions", body,
        {{"content-type", "application/json"}, {"authorization", "Bearer proxy-key-for-chat"}});
    REQUIRE(res.status == 200);
    auto sent = r->upstream->requests().back();
    CHECK(sent.target == "/v1/chat/completions");
    CHECK(sent.body == body);
    CHECK(sent.header("x-api-key") == r->cfg.anthropic_api_key);
    CHECK(sent.header("authorization").empty());
    CHECK(res.body == sent.response_body);
    if (stream) {
      CHECK(res.header("content-type").find("text/event-stream") == 0);
      CHECK(res.body.find("\"object\":\"chat.completion.chunk\"") != std::string::npos);
      CHECK(res.body.size() > 14);
      CHECK(res.body.substr(res.body.size() - 14) == "data: [DONE]\n\n");
    } else {
      CHECK(res.body.find("\"object\":\"chat.completion\"") != std::string::npos);
    }
  }
  // Bodies are checked like Messages bodies before anything goes upstream.
  auto bad =
      call(r->port, http::verb::post, "/v1/chat/completions", R"({"messages":[]})",
           {{"content-type", "application/json"}, {"authorization", "Bearer proxy-key-for-chat"}});
  CHECK(bad.status == 400);
}

TEST_CASE("the request goes upstream byte for byte with the right headers") {
  auto r = rig::with_api_key();
  r->start_proxy();
  // Unusual spacing and an unknown field must survive: the body is never re-serialised.
  std::string body =
      R"({ "model" : "claude-sonnet-4-6", "max_tokens":5, "future_field": {"x": [1, 2]},)"
      R"( "system":[{"type":"text","text":"Be brief","cache_control":{"type":"ephemeral"}}],)"
      R"( "messages":[{"role":"user","content":"hi"}] })";
  auto res = post_messages(r->port, body,
                           {{"x-stainless-lang", "js"},
                            {"user-agent", "agent/2"},
                            {"anthropic-beta", "prompt-caching-2024-07-31"},
                            {"accept-encoding", "gzip"},
                            {"cookie", "c=1"},
                            {"x-api-key", "client-key-must-not-leak"}});
  REQUIRE(res.status == 200);
  auto got = r->upstream->requests().back();
  CHECK(got.body == body);
  CHECK(got.header("x-api-key") == "sim-upstream-key");
  CHECK(got.header("x-stainless-lang") == "js");
  CHECK(got.header("user-agent") == "agent/2");
  CHECK(got.header("anthropic-beta") == "prompt-caching-2024-07-31");
  CHECK(got.header("anthropic-version") == "2023-06-01");
  CHECK(got.header("accept-encoding").empty());
  CHECK(got.header("cookie").empty());
  CHECK(got.header("authorization").empty());
}

TEST_CASE("upstream errors are reported faithfully: status, body, retry-after") {
  auto r = rig::with_api_key();
  r->start_proxy();
  auto limited =
      post_messages(r->port, message_body(false), {{"x-sim-fault", "status=429;retry-after=7"}});
  CHECK(limited.status == 429);
  CHECK(limited.header("retry-after") == "7");
  CHECK(limited.header("anthropic-ratelimit-requests-remaining") == "0");
  CHECK(limited.body.find("rate_limit_error") != std::string::npos);
  CHECK(limited.body == r->upstream->requests().back().response_body);

  auto overloaded = post_messages(r->port, message_body(true), {{"x-sim-fault", "status=529"}});
  CHECK(overloaded.status == 529);
  CHECK(overloaded.body.find("overloaded_error") != std::string::npos);
  auto internal = post_messages(r->port, message_body(false), {{"x-sim-fault", "status=500"}});
  CHECK(internal.status == 500);
}

TEST_CASE("an upstream that resets before answering gives a 502 in the Anthropic shape") {
  auto r = rig::with_api_key();
  r->start_proxy();
  auto res = post_messages(r->port, message_body(false), {{"x-sim-fault", "reset-before-headers"}});
  CHECK(res.status == 502);
  CHECK(res.body.find(R"("type":"error")") != std::string::npos);
  CHECK(res.body.find(R"("type":"api_error")") != std::string::npos);
  CHECK(res.body.find("upstream") != std::string::npos);
  // The proxy is fine afterwards.
  CHECK(post_messages(r->port, message_body(false)).status == 200);
}

TEST_CASE("an upstream that dies mid-stream ends the stream with a well-formed error event") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  auto body = message_body(true);
  c.send("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "x-sim-fault: reset-mid-stream\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body);
  auto raw = c.read_until("\r\n0\r\n\r\n", std::chrono::seconds(10));
  REQUIRE(raw.find("HTTP/1.1 200") == 0);
  auto events = dechunk(raw);
  CHECK(events.find("event: message_start") == 0);
  CHECK(events.find("event: message_stop") == std::string::npos);
  auto err =
      events.rfind("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"");
  REQUIRE(err != std::string::npos);
  CHECK(events.substr(events.size() - 2) == "\n\n");
  // Everything before the error event is whole events.
  CHECK(events.substr(err - 2, 2) == "\n\n");
}

TEST_CASE("timeouts: no answer gives 504, a stream gone silent ends with an error event") {
  auto r = rig::with_api_key();
  r->cfg.upstream_timeout = std::chrono::seconds(1);
  r->cfg.stream_idle_timeout = std::chrono::seconds(1);
  r->start_proxy();
  auto t0 = std::chrono::steady_clock::now();
  auto res = post_messages(r->port, message_body(false), {{"x-sim-fault", "stall"}});
  CHECK(res.status == 504);
  CHECK(res.body.find("timeout_error") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));
  auto stream = post_messages(r->port, message_body(true), {{"x-sim-fault", "stall-mid-stream"}});
  CHECK(stream.status == 200);
  CHECK(stream.body.find("event: error") != std::string::npos);
  CHECK(stream.body.find("timeout_error") != std::string::npos);
}

TEST_CASE("a client that hangs up mid-stream closes the upstream connection within 1 s") {
  sim::options so;
  so.event_delay = std::chrono::milliseconds(200);
  so.text_chunks = 50;
  auto r = rig::with_api_key(so);
  r->start_proxy();
  raw_client c(r->port);
  auto body = message_body(true);
  c.send("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body);
  auto first = c.read_until("event: message_start", std::chrono::seconds(5));
  REQUIRE(first.find("event: message_start") != std::string::npos);
  int closed_before = r->upstream->connections_closed();
  auto t0 = std::chrono::steady_clock::now();
  c.close();
  CHECK(eventually([&] { return r->upstream->connections_closed() > closed_before; },
                   std::chrono::milliseconds(1000)));
  INFO("noticed after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - t0)
                               .count()
                        << " ms");
  CHECK(post_messages(r->port, message_body(false)).status == 200);
}

TEST_CASE("keep-alive and pipelining on one client connection; upstream connections reused") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  auto body = message_body(false);
  std::string one = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  c.send(one + one); // two requests in one write
  auto both = c.read_until("msg_sim_2", std::chrono::seconds(5));
  CHECK(both.find("msg_sim_1") != std::string::npos);
  CHECK(both.find("msg_sim_2") != std::string::npos);
  c.send(one);
  auto third = c.read_until("msg_sim_3", std::chrono::seconds(5));
  CHECK(third.find("msg_sim_3") != std::string::npos);
  // The upstream saw one connection for three sequential requests.
  CHECK(r->upstream->connections_accepted() == 1);
}

TEST_CASE("20 concurrent streams all complete") {
  auto r = rig::with_api_key();
  r->start_proxy();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&] {
      auto res = post_messages(r->port, message_body(true));
      if (res.status == 200 && res.body.find("event: message_stop") != std::string::npos)
        ++ok;
    });
  for (auto &t : threads)
    t.join();
  CHECK(ok == 20);
  auto health = testing::call(r->port, http::verb::get, "/health");
  CHECK(health.status == 200);
  CHECK(health.body.find("\"mode\":\"api_key\"") != std::string::npos);
  // Connections go back to the pool just after the last byte reached the client.
  CHECK(eventually(
      [&] {
        return testing::call(r->port, http::verb::get, "/health").body.find("\"busy\":0,") !=
               std::string::npos;
      },
      std::chrono::seconds(2)));
}
