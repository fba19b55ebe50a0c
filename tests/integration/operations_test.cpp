// What the people running the proxy rely on: retries before the first byte, overload answers,
// keep-alive comments on quiet streams, and a graceful drain on SIGTERM.
#include "core/clock.hpp"
#include "harness.hpp"
#include "sim/scenarios.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

using namespace testing;
using namespace std::chrono_literals;

namespace {

std::string http_response(unsigned status, const std::string &extra_head, const std::string &body,
                          const std::string &type = "application/json") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_head + "\r\n" + body;
}

std::string error_json(const std::string &type) {
  return R"({"type":"error","error":{"type":")" + type + R"(","message":"upstream says no"}})";
}

const std::string ok_json =
    R"({"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"hi"}],)"
    R"("usage":{"input_tokens":3,"output_tokens":1}})";

/// The upstream answers each attempt in turn with the next of `answers` (the last one repeats).
struct scripted_attempts {
  explicit scripted_attempts(std::vector<std::string> answers)
      : answers_(std::move(answers)), server_([this](const std::string &) {
          auto n = count_++;
          return std::vector<std::string>{answers_[std::min(n, answers_.size() - 1)]};
        }) {}
  std::size_t attempts() const { return server_.requests().size(); }
  std::string url() const { return server_.url(); }

  std::vector<std::string> answers_;
  std::atomic<std::size_t> count_{0};
  scripted_server server_;
};

/// GET `path` until its body holds `needle` (3 s at most), and that body. A session records its
/// request in /metrics and /health just after the client has the whole answer, so a check made
/// right after a request must allow for that moment.
std::string body_once_it_has(std::uint16_t port, const std::string &path,
                             const std::string &needle) {
  std::string body;
  eventually(
      [&] {
        body = call(port, http::verb::get, path).body;
        return body.find(needle) != std::string::npos;
      },
      3s);
  return body;
}

std::unique_ptr<rig> proxy_to(const std::string &upstream_url) {
  auto r = std::make_unique<rig>();
  r->cfg.upstream_url = upstream_url;
  r->cfg.anthropic_api_key = "sk-ant-api03-operations-test-key";
  return r;
}

std::string raw_post(bool stream) {
  auto body = message_body(stream);
  return "POST /v1/messages HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

} // namespace

TEST_CASE("retries: a 529 with retry-after is waited out and retried; the client sees only the "
          "answer") {
  scripted_attempts up({http_response(529, "retry-after: 0\r\n", error_json("overloaded_error")),
                        http_response(200, "", ok_json)});
  auto r = proxy_to(up.url());
  r->start_proxy();
  auto res = post_messages(r->port, message_body(false));
  CHECK(res.status == 200);
  CHECK(res.body == ok_json);
  CHECK(up.attempts() == 2);
  // The same body went upstream both times.
  auto sent = up.server_.requests();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].substr(sent[0].find("\r\n\r\n")) == sent[1].substr(sent[1].find("\r\n\r\n")));
}

TEST_CASE("retries: 429, 500, 502, 503, 504 are retried with backoff; retry-after-ms is honoured") {
  for (unsigned status : {429u, 500u, 502u, 503u, 504u}) {
    CAPTURE(status);
    scripted_attempts up({http_response(status, "retry-after-ms: 10\r\n", error_json("api_error")),
                          http_response(200, "", ok_json)});
    auto r = proxy_to(up.url());
    r->start_proxy();
    CHECK(post_messages(r->port, message_body(false)).status == 200);
    CHECK(up.attempts() == 2);
  }
}

TEST_CASE("retries: never for 400, 401, 403, 404, 413, nor when x-should-retry says false") {
  for (unsigned status : {400u, 401u, 403u, 404u, 413u}) {
    CAPTURE(status);
    scripted_attempts up({http_response(status, "", error_json("invalid_request_error")),
                          http_response(200, "", ok_json)});
    auto r = proxy_to(up.url());
    r->start_proxy();
    CHECK(post_messages(r->port, message_body(false)).status == status);
    CHECK(up.attempts() == 1);
  }
  scripted_attempts up({http_response(529, "x-should-retry: false\r\n", error_json("x")),
                        http_response(200, "", ok_json)});
  auto r = proxy_to(up.url());
  r->start_proxy();
  CHECK(post_messages(r->port, message_body(false)).status == 529);
  CHECK(up.attempts() == 1);
}

TEST_CASE("retries: a retry-after beyond --retry-max-wait is not waited for; the answer is "
          "relayed as it came") {
  scripted_attempts up({http_response(529, "retry-after: 60\r\n", error_json("overloaded_error")),
                        http_response(200, "", ok_json)});
  auto r = proxy_to(up.url());
  r->cfg.retry_max_wait = 10s;
  r->start_proxy();
  auto started = std::chrono::steady_clock::now();
  auto res = post_messages(r->port, message_body(false));
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(res.status == 529);
  CHECK(res.header("retry-after") == "60");
  CHECK(res.body == error_json("overloaded_error"));
  CHECK(up.attempts() == 1);
}

TEST_CASE("retries: --retries bounds them; the last answer goes to the client") {
  scripted_attempts up({http_response(503, "retry-after: 0\r\n", error_json("api_error"))});
  auto r = proxy_to(up.url());
  r->cfg.retries = 3;
  r->start_proxy();
  CHECK(post_messages(r->port, message_body(false)).status == 503);
  CHECK(up.attempts() == 4);

  scripted_attempts none({http_response(503, "retry-after: 0\r\n", error_json("api_error")),
                          http_response(200, "", ok_json)});
  auto r0 = proxy_to(none.url());
  r0->cfg.retries = 0;
  r0->start_proxy();
  CHECK(post_messages(r0->port, message_body(false)).status == 503);
  CHECK(none.attempts() == 1);
}

TEST_CASE("retries: a connection the upstream drops before answering is retried") {
  // A response head cut off halfway: the connection ends before the response headers.
  scripted_attempts up({"HTTP/1.1 200 OK\r\nContent-Ty", http_response(200, "", ok_json)});
  auto r = proxy_to(up.url());
  r->start_proxy();
  CHECK(post_messages(r->port, message_body(false)).status == 200);
  CHECK(up.attempts() == 2);
}

TEST_CASE("retries: an overloaded_error event before any content is retried unseen; after "
          "content it is relayed") {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Connection: close\r\n\r\n";
  std::string start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n";
  std::string overloaded =
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"Overloaded\"}}\n\n";
  std::string content = "event: content_block_start\ndata: {\"type\":\"content_block_start\"}\n\n"
                        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  SECTION("before content: retried") {
    scripted_attempts up({head + start + overloaded, head + start + content});
    auto r = proxy_to(up.url());
    r->start_proxy();
    auto res = post_messages(r->port, message_body(true));
    CHECK(res.status == 200);
    CHECK(res.body == start + content); // nothing of the failed attempt
    CHECK(up.attempts() == 2);
  }
  SECTION("after content: relayed as it came") {
    scripted_attempts up({head + start + content + overloaded, head + start + content});
    auto r = proxy_to(up.url());
    r->start_proxy();
    auto res = post_messages(r->port, message_body(true));
    CHECK(res.body == start + content + overloaded);
    CHECK(up.attempts() == 1);
  }
}

TEST_CASE("retries: a request timed out waiting for its answer is not sent again") {
  // The upstream reads the request and says nothing: the proxy may not know whether it is
  // being worked on, so it must not send it twice.
  scripted_server silent([](const std::string &) {
    std::this_thread::sleep_for(2500ms);
    return std::vector<std::string>{};
  });
  auto r = proxy_to(silent.url());
  r->cfg.upstream_timeout = 1s;
  r->start_proxy();
  auto res = post_messages(r->port, message_body(false));
  CHECK(res.status == 504);
  CHECK(silent.requests().size() == 1);
}

TEST_CASE("overload: beyond --max-in-flight an immediate 529 with retry-after; /health still "
          "answers") {
  sim::options so;
  so.event_delay = 300ms;
  auto r = rig::with_api_key(so);
  r->cfg.max_in_flight = 1;
  r->start_proxy();
  raw_client streaming(r->port);
  streaming.send(raw_post(true));
  REQUIRE(streaming.read_until("message_start", 5s).find("message_start") != std::string::npos);
  auto refused = post_messages(r->port, message_body(false));
  CHECK(refused.status == 529);
  CHECK(refused.header("retry-after") == "1");
  CHECK(refused.body.find("\"overloaded_error\"") != std::string::npos);
  CHECK(r->upstream->requests().size() == 1); // the upstream never saw it
  auto health = call(r->port, http::verb::get, "/health");
  CHECK(health.status == 200);
  CHECK(health.body.find("\"max_in_flight\":1") != std::string::npos);
  REQUIRE(streaming.read_until("message_stop", 10s).find("message_stop") != std::string::npos);
  CHECK(eventually([&] { return post_messages(r->port, message_body(false)).status == 200; }, 3s));
}

TEST_CASE("keep-alive: a quiet stream gets SSE comments; the events stay byte-exact") {
  sim::options so;
  so.event_delay = 1300ms;
  so.text_chunks = 1;
  auto r = rig::with_api_key(so);
  r->cfg.sse_keepalive = 1s;
  r->start_proxy();
  auto res = post_messages(r->port, message_body(true));
  REQUIRE(res.status == 200);
  const std::string comment = ": keep-alive\n\n";
  std::string events = res.body;
  std::size_t comments = 0;
  for (auto at = events.find(comment); at != std::string::npos; at = events.find(comment, at)) {
    events.erase(at, comment.size());
    ++comments;
  }
  CHECK(comments >= 3);
  CHECK(res.body.rfind(comment, 0) != 0); // the first event comes first
  CHECK(events == r->upstream->requests().back().response_body);
}

TEST_CASE("keep-alive is off by default") {
  sim::options so;
  so.event_delay = 1200ms;
  so.text_chunks = 1;
  auto r = rig::with_api_key(so);
  r->start_proxy();
  auto res = post_messages(r->port, message_body(true));
  CHECK(res.body.find(": keep-alive") == std::string::npos);
  CHECK(res.body == r->upstream->requests().back().response_body);
}

namespace {

/// A real proxy process in front of a slow simulator, for the signal tests.
struct draining_rig {
  std::unique_ptr<sim::server> upstream;
  std::unique_ptr<proxy_process> proxy;
  draining_rig(std::chrono::milliseconds event_delay, int chunks,
               std::vector<std::string> args = {}) {
    sim::options so;
    so.event_delay = event_delay;
    so.text_chunks = chunks;
    so.api_key = "sk-ant-api03-drain-test-key";
    upstream = std::make_unique<sim::server>(so);
    upstream->start();
    args.insert(args.begin(), "--no-request-log");
    proxy = std::make_unique<proxy_process>(
        std::vector<std::string>{"ANTHROPIC_API_KEY=" + so.api_key,
                                 "UPSTREAM_URL=" + upstream->base_url()},
        args);
  }
};

} // namespace

TEST_CASE("drain: SIGTERM lets the stream in flight finish, refuses new work with 529, and "
          "exits 0") {
  draining_rig d(200ms, 8);
  auto port = d.proxy->port;
  raw_client streaming(port);
  streaming.send(raw_post(true));
  REQUIRE(streaming.read_until("message_start", 5s).find("message_start") != std::string::npos);
  ::kill(d.proxy->pid, SIGTERM);
  reply health;
  REQUIRE(eventually(
      [&] {
        health = call(port, http::verb::get, "/health");
        return health.status == 503;
      },
      3s));
  CHECK(health.body.find("\"status\":\"draining\"") != std::string::npos);
  auto refused = post_messages(port, message_body(false));
  CHECK(refused.status == 529);
  CHECK(refused.header("retry-after") == "1");
  CHECK(refused.header("connection") == "close");
  auto rest = streaming.read_until("event: message_stop", 10s);
  CHECK(rest.find("event: message_stop") != std::string::npos);
  CHECK(rest.find("event: error") == std::string::npos);
  CHECK(streaming.closed_by_peer(5s)); // closed after its response
  auto status = d.proxy->wait_exit(10s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("drain: streams still running at --drain-timeout end with an error event; exit 0") {
  draining_rig d(500ms, 40, {"--drain-timeout", "1"});
  raw_client streaming(d.proxy->port);
  streaming.send(raw_post(true));
  REQUIRE(streaming.read_until("message_start", 5s).find("message_start") != std::string::npos);
  auto signalled = std::chrono::steady_clock::now();
  ::kill(d.proxy->pid, SIGTERM);
  auto rest = streaming.read_until("\r\n0\r\n\r\n", 10s);
  CHECK(rest.find("event: error") != std::string::npos);
  CHECK(rest.find("shutting down") != std::string::npos);
  CHECK(rest.find("message_stop") == std::string::npos);
  auto status = d.proxy->wait_exit(10s);
  CHECK(std::chrono::steady_clock::now() - signalled < 6s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("drain: a second signal exits at once") {
  draining_rig d(500ms, 40);
  raw_client streaming(d.proxy->port);
  streaming.send(raw_post(true));
  REQUIRE(streaming.read_until("message_start", 5s).find("message_start") != std::string::npos);
  ::kill(d.proxy->pid, SIGTERM);
  std::this_thread::sleep_for(300ms);
  auto signalled = std::chrono::steady_clock::now();
  ::kill(d.proxy->pid, SIGINT);
  auto status = d.proxy->wait_exit(5s);
  CHECK(std::chrono::steady_clock::now() - signalled < 2s);
  CHECK(WIFEXITED(status));
  CHECK(d.proxy->output().find("\"forced\":true") != std::string::npos);
}

TEST_CASE("metrics: /metrics counts what happened, in the Prometheus text format") {
  auto r = rig::with_api_key();
  r->start_proxy();
  REQUIRE(post_messages(r->port, message_body(true)).status == 200);
  REQUIRE(post_messages(r->port, message_body(false)).status == 200);
  REQUIRE(call(r->port, http::verb::get, "/nope").status == 404);
  body_once_it_has(r->port, "/metrics", R"(route="messages",status="200"} 2)");
  body_once_it_has(r->port, "/metrics", R"(route="not_found")");
  auto m = call(r->port, http::verb::get, "/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.header("content-type").find("text/plain; version=0.0.4") == 0);
  auto has = [&](const std::string &line) {
    return m.body.find("\n" + line + "\n") != std::string::npos;
  };
  CHECK(has(R"(claude_proxy_requests_total{method="POST",route="messages",status="200"} 2)"));
  CHECK(has(R"(claude_proxy_requests_total{method="GET",route="not_found",status="404"} 1)"));
  CHECK(has(R"(claude_proxy_refused_total{reason="not_found"} 1)"));
  CHECK(has(R"(claude_proxy_time_to_first_byte_seconds_count{stream="true"} 1)"));
  CHECK(has(R"(claude_proxy_request_duration_seconds_count{stream="true"} 1)"));
  CHECK(has(R"(claude_proxy_streams_open 0)"));
  CHECK(m.body.find(R"(claude_proxy_tokens_total{kind="output",model="claude-sonnet-4-6"})") !=
        std::string::npos);
  // The simulator's API-key rate-limit headers, as gauges and in /health.
  CHECK(
      has(R"(claude_proxy_upstream_ratelimit{header="anthropic-ratelimit-requests-limit"} 4000)"));
  CHECK(m.body.find(
            R"(claude_proxy_upstream_ratelimit{header="anthropic-ratelimit-requests-reset"})") !=
        std::string::npos);
  auto health = call(r->port, http::verb::get, "/health");
  CHECK(health.body.find(R"("anthropic-ratelimit-requests-limit":"4000")") != std::string::npos);
  CHECK(health.body.find(R"("rate_limits":{"updated":")") != std::string::npos);
  // No secret in it.
  CHECK(m.body.find(r->cfg.anthropic_api_key) == std::string::npos);
}

TEST_CASE("metrics: retries and upstream errors are counted by reason") {
  scripted_attempts up({http_response(529, "retry-after: 0\r\n", error_json("overloaded_error")),
                        http_response(200, "", ok_json)});
  auto r = proxy_to(up.url());
  r->start_proxy();
  REQUIRE(post_messages(r->port, message_body(false)).status == 200);
  auto m = body_once_it_has(r->port, "/metrics", "claude_proxy_retries_total{");
  CHECK(m.find("\nclaude_proxy_retries_total{reason=\"status_529\"} 1\n") != std::string::npos);
  CHECK(m.find("\nclaude_proxy_upstream_errors_total{kind=\"http_529\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: open on loopback, behind the proxy key elsewhere") {
  auto r = rig::with_api_key();
  r->cfg.proxy_api_key = "proxy-key-for-metrics";
  r->start_proxy(); // on 127.0.0.1
  CHECK(call(r->port, http::verb::get, "/metrics").status == 200);

  auto wide = rig::with_api_key();
  wide->cfg.host = "0.0.0.0";
  wide->cfg.proxy_api_key = "proxy-key-for-metrics";
  wide->start_proxy();
  CHECK(call(wide->port, http::verb::get, "/metrics").status == 401);
  CHECK(call(wide->port, http::verb::get, "/metrics", "", {{"x-api-key", "proxy-key-for-metrics"}})
            .status == 200);
}

TEST_CASE("quota: the extra-usage refusal is relayed as it came and shown in /health and "
          "/metrics") {
  const std::string refusal =
      R"({"type":"error","error":{"type":"invalid_request_error","message":"Third-party apps )"
      R"(now draw from your extra usage, not your plan limits. Enable extra usage to )"
      R"(continue."},"request_id":"req_up_1"})";
  scripted_attempts up({http_response(400, "", refusal), http_response(400, "", refusal),
                        http_response(200, "", ok_json)});
  auto r = proxy_to(up.url());
  r->start_proxy();
  auto res = post_messages(r->port, message_body(false));
  CHECK(res.status == 400);
  CHECK(res.body == refusal); // never hidden or rewritten
  CHECK(post_messages(r->port, message_body(false)).status == 400);
  auto health = body_once_it_has(r->port, "/health", R"("extra_usage_refusals":2)");
  CHECK(health.find(R"("quota":{"state":"extra_usage_required","hint":"Anthropic refuses )") !=
        std::string::npos);
  CHECK(health.find(R"("extra_usage_refusals":2)") != std::string::npos);
  CHECK(health.find("run the proxy with an API key (ANTHROPIC_API_KEY)") != std::string::npos);
  auto metrics = call(r->port, http::verb::get, "/metrics").body;
  CHECK(metrics.find("\nclaude_proxy_extra_usage_refusals_total 2\n") != std::string::npos);
  CHECK(metrics.find("\nclaude_proxy_quota_state{state=\"extra_usage_required\"} 1\n") !=
        std::string::npos);
  // Served again (extra usage enabled, say): the state clears, the count stays.
  CHECK(post_messages(r->port, message_body(false)).status == 200);
  health = body_once_it_has(r->port, "/health", R"("quota":{"state":"ok")");
  CHECK(health.find(R"("quota":{"state":"ok","extra_usage_refusals":2)") != std::string::npos);
}

TEST_CASE("quota: a unified status of rejected shows the plan limit") {
  scripted_attempts up({http_response(429,
                                      "anthropic-ratelimit-unified-status: rejected\r\n"
                                      "anthropic-ratelimit-unified-5h-utilization: 1.0\r\n"
                                      "x-should-retry: false\r\n",
                                      error_json("rate_limit_error"))});
  auto r = proxy_to(up.url());
  r->start_proxy();
  CHECK(post_messages(r->port, message_body(false)).status == 429);
  auto health = body_once_it_has(r->port, "/health", "plan_limit_reached");
  CHECK(health.find(R"("quota":{"state":"plan_limit_reached")") != std::string::npos);
  CHECK(health.find(R"("anthropic-ratelimit-unified-5h-utilization":"1.0")") != std::string::npos);
}

TEST_CASE("quota: the simulator's extra-usage refusal on an OAuth credential, end to end") {
  rig r;
  auto pair = r.upstream->issue_tokens(std::chrono::hours(1));
  r.cfg.upstream_url = r.upstream->base_url();
  r.cfg.oauth_creds_json = R"({"claudeAiOauth":{"accessToken":")" + pair.access_token +
                           R"(","refreshToken":")" + pair.refresh_token + R"(","expiresAt":)" +
                           std::to_string(proxy::unix_now_ms() + 3'600'000) + "}}";
  r.start_proxy();
  auto refused = post_messages(r.port, message_body(false), {{"x-sim-fault", "extra-usage"}});
  CHECK(refused.status == 400);
  CHECK(refused.body.find(std::string(sim::k_extra_usage_message)) != std::string::npos);
  auto health = body_once_it_has(r.port, "/health", "extra_usage_required");
  CHECK(health.find(R"("quota":{"state":"extra_usage_required")") != std::string::npos);
  // Subscription answers carry the unified rate-limit headers.
  CHECK(post_messages(r.port, message_body(true)).status == 200);
  health = body_once_it_has(r.port, "/health", R"("quota":{"state":"ok")");
  CHECK(health.find(R"("quota":{"state":"ok")") != std::string::npos);
  CHECK(health.find(R"("anthropic-ratelimit-unified-status":"allowed")") != std::string::npos);
}

TEST_CASE("GET / answers a probe with 200 and no key (the Containers library pings it at start)") {
  auto r = rig::with_api_key();
  r->cfg.proxy_api_key = "client-key-123456";
  r->start_proxy();
  auto res = call(r->port, http::verb::get, "/");
  CHECK(res.status == 200);
  CHECK(res.body == R"({"service":"claude-proxy","health":"/health"})");
  CHECK(call(r->port, http::verb::post, "/", "{}", {{"x-api-key", "client-key-123456"}}).status ==
        405);
  CHECK(call(r->port, http::verb::get, "/v1/models").status == 401); // only / is open
  CHECK(r->upstream->requests().empty());
}
