// The adversarial suite: the real claude-proxy binary, attacked over raw sockets and from a
// misbehaving upstream and token endpoint. After every case the proxy must still answer
// /health and a normal request; cases that could grow memory assert a ceiling on its VmRSS.
// It runs with distinctive secrets, and the last case searches every byte the proxies printed
// and every byte the clients received for them.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

using namespace testing;
using namespace std::chrono_literals;

namespace {

const std::string upstream_key = "sk-ant-api03-HOSTILE-upstream-key-7f3a9c";
const std::string proxy_key = "proxy-HOSTILE-client-key-51be02";
const std::string admin_key = "admin-HOSTILE-key-c0ffee77";
const std::string access_token = "sk-ant-oat01-HOSTILE-access-token-9d8e7f";
const std::string refresh_token = "sk-ant-ort01-HOSTILE-refresh-token-1a2b3c";

/// What the misbehaving upstream does for the next request.
enum class upstream_mode {
  garbage,
  endless_headers,
  short_body,
  long_body,
  continue_flood,
  stall_after_head,
  bad_chunks,
  close_at_once,
  echo_key
};

/// The processes every case shares, made once.
struct world {
  sim::server sim{[] {
    sim::options o;
    o.api_key = upstream_key;
    o.event_delay = std::chrono::milliseconds(0);
    return o;
  }()};
  std::atomic<upstream_mode> mode{upstream_mode::garbage};
  scripted_server bad_upstream{[this](const std::string &) { return misbehave(mode.load()); }};
  scripted_server bad_token_endpoint{[](const std::string &) {
    std::string body = R"({"error":"invalid_request","error_description":"token )" + refresh_token +
                       R"( rejected"})";
    return std::vector<std::string>{"HTTP/1.1 400 Bad Request\r\nContent-Type: "
                                    "application/json\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body};
  }};
  std::unique_ptr<proxy_process> a, b, c; ///< in front of: the simulator, bad_upstream, OAuth
  std::string received;                   ///< every byte the clients got, for the sweep

  world() {
    // Thousands of idle connections need descriptors: the test process takes what it may.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 16384);
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    sim.start();
    std::vector<std::string> common = {"HOME=/nonexistent",
                                       "PROXY_API_KEY=" + proxy_key,
                                       "PROXY_ADMIN_KEY=" + admin_key,
                                       "MAX_BODY_BYTES=1048576",
                                       "CLIENT_IDLE_TIMEOUT_SECONDS=2",
                                       "CLIENT_WRITE_TIMEOUT_SECONDS=2",
                                       "STREAM_IDLE_TIMEOUT_SECONDS=2",
                                       "UPSTREAM_TIMEOUT_SECONDS=3",
                                       "IO_THREADS=2"};
    auto with = [&](std::vector<std::string> more) {
      more.insert(more.end(), common.begin(), common.end());
      return more;
    };
    a = std::make_unique<proxy_process>(
        with({"ANTHROPIC_API_KEY=" + upstream_key, "UPSTREAM_URL=" + sim.base_url()}),
        std::vector<std::string>{});
    b = std::make_unique<proxy_process>(
        with({"ANTHROPIC_API_KEY=" + upstream_key, "UPSTREAM_URL=" + bad_upstream.url()}),
        std::vector<std::string>{});
    c = std::make_unique<proxy_process>(
        with({"UPSTREAM_URL=" + sim.base_url(),
              "OAUTH_TOKEN_URL=" + bad_token_endpoint.url() + "/v1/oauth/token",
              R"(CLAUDE_OAUTH_CREDS={"claudeAiOauth":{"accessToken":")" + access_token +
                  R"(","refreshToken":")" + refresh_token + R"(","expiresAt":1000}})"}),
        std::vector<std::string>{});
  }

  static std::vector<std::string> misbehave(upstream_mode m) {
    const std::string json_head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    switch (m) {
    case upstream_mode::garbage:
      return {"\x16\x03\x01 this is not HTTP at all\r\n\r\n"};
    case upstream_mode::endless_headers: {
      std::vector<std::string> out{"HTTP/1.1 200 OK\r\n"};
      for (int i = 0; i < 40; ++i)
        out.push_back("x-filler-" + std::to_string(i) + ": " + std::string(4000, 'a') + "\r\n");
      return out;
    }
    case upstream_mode::short_body: // promises more than it sends, then closes
      return {json_head + "Content-Length: 1000\r\n\r\n{\"type\":\"message\""};
    case upstream_mode::long_body: // sends more than it promised
      return {json_head + "Content-Length: 2\r\n\r\n{}EXTRA-BYTES-THAT-MUST-NOT-REACH-A-CLIENT"};
    case upstream_mode::continue_flood: {
      std::string flood;
      for (int i = 0; i < 2000; ++i)
        flood += "HTTP/1.1 100 Continue\r\n\r\n";
      return {flood, json_head + "Content-Length: 2\r\n\r\n{}"};
    }
    case upstream_mode::stall_after_head: {
      std::vector<std::string> out{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"};
      for (int i = 0; i < 200; ++i) // about 4 s of silence, past the 2 s stream idle timeout
        out.push_back("");
      return out;
    }
    case upstream_mode::bad_chunks:
      return {"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
              "chunked\r\n\r\nzz\r\nnot a chunk\r\n"};
    case upstream_mode::close_at_once:
      return {};
    case upstream_mode::echo_key:
      return {"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: "
              "60\r\n\r\n{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"}}"};
    }
    return {};
  }
};

world &the_world() {
  static world w;
  return w;
}

/// Sends `bytes` on a new connection and reads until the proxy closes it or `wait` passes.
std::string send_raw(std::uint16_t port, const std::string &bytes,
                     std::chrono::milliseconds wait = 3s) {
  raw_client c(port);
  try {
    c.send(bytes);
  } catch (const boost::system::system_error &) {
    // The proxy may close before taking everything: what it answered is still read below.
  }
  c.closed_by_peer(wait);
  auto got = c.read_until("\x01never\x01", 0ms);
  the_world().received += got;
  return got;
}

unsigned status_of(const std::string &response) {
  if (response.size() < 12 || response.rfind("HTTP/1.", 0) != 0)
    return 0;
  return static_cast<unsigned>(std::stoi(response.substr(9, 3)));
}

std::string authed(const std::string &head_lines) {
  return head_lines + "x-api-key: " + proxy_key + "\r\n";
}

std::string post_head(const std::string &extra) {
  return "POST /v1/messages HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n" +
         authed("") + extra;
}

/// /health and one normal request still work on `port` (the simulator's proxy unless told).
void still_serving(std::uint16_t port = 0) {
  auto &w = the_world();
  if (port == 0)
    port = w.a->port;
  auto health = call(port, http::verb::get, "/health");
  w.received += health.body;
  CHECK(health.status == 200);
  auto res = post_messages(w.a->port, message_body(false), {{"x-api-key", proxy_key}});
  w.received += res.body;
  CHECK(res.status == 200);
}

/// The proxy's VmRSS is under `ceiling_mib`. Under AddressSanitizer every allocation carries
/// shadow memory and freed blocks wait in a quarantine: scripts/test sets HOSTILE_RSS_SCALE
/// there.
std::size_t ceiling(std::size_t mib) {
  const char *scale = std::getenv("HOSTILE_RSS_SCALE");
  return mib * (scale ? std::stoul(scale) : 1);
}

void bounded_memory(std::size_t ceiling_mib) {
  auto rss = the_world().a->rss_kib() / 1024;
  INFO("proxy RSS " << rss << " MiB");
  CHECK(rss < ceiling(ceiling_mib));
}

struct refusal_case {
  const char *name;
  std::string request;
  unsigned status; ///< the answer expected, 0 for "closed without one"
};

} // namespace

TEST_CASE("malformed and smuggling-shaped requests are refused and the connection closed") {
  auto &w = the_world();
  auto body = message_body(false);
  auto len = std::to_string(body.size());
  std::vector<refusal_case> cases = {
      {"Content-Length and Transfer-Encoding together",
       post_head("Content-Length: " + len + "\r\nTransfer-Encoding: chunked\r\n\r\n") + body, 400},
      {"two different Content-Lengths",
       post_head("Content-Length: " + len + "\r\nContent-Length: 3\r\n\r\n") + body, 400},
      {"a signed Content-Length", post_head("Content-Length: +" + len + "\r\n\r\n") + body, 400},
      {"a Content-Length list", post_head("Content-Length: 5, 5\r\n\r\n") + "abcde", 400},
      {"an unknown transfer coding", post_head("Transfer-Encoding: gzip\r\n\r\n") + body, 400},
      {"chunked not last", post_head("Transfer-Encoding: chunked, gzip\r\n\r\n") + body, 400},
      {"a chunk size that overflows",
       post_head("Transfer-Encoding: chunked\r\n\r\n") + "fffffffffffffffffff\r\nx", 400},
      {"a malformed chunk extension",
       post_head("Transfer-Encoding: chunked\r\n\r\n") + "5;=\r\nhello\r\n0\r\n\r\n", 400},
      {"an obs-folded header", post_head("X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n"), 400},
      {"a space before the colon", "GET /health HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"a NUL in a header value",
       std::string("GET /health HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 40), 400},
      {"an HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
      {"a garbage request line", "\x16\x03\x01\x02\x00 hello\r\n\r\n", 400},
      {"an unsupported HTTP version", "GET /health HTTP/3.0\r\nHost: h\r\n\r\n", 400},
      {"a header block over the limit",
       "GET /health HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n", 431},
      {"a body over the limit, declared",
       post_head("Content-Length: 2000000\r\n\r\n") + std::string(1000, 'x'), 413},
      {"a body over the limit, chunked",
       post_head("Transfer-Encoding: chunked\r\n\r\n") + "100000\r\n" + std::string(0x100000, 'x') +
           "\r\n100\r\n" + std::string(0x100, 'x') + "\r\n0\r\n\r\n",
       413},
      {"a body on /health", "GET /health HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\nxx",
       400},
      {"Host missing", "GET /health HTTP/1.1\r\n\r\n", 400},
      {"Host twice", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"Host invalid", "GET /health HTTP/1.1\r\nHost: a/b@c\r\n\r\n", 400},
  };
  for (const auto &c : cases) {
    INFO(c.name);
    auto got = send_raw(w.a->port, c.request);
    CHECK(status_of(got) == c.status);
    CHECK(got.find("\r\n\r\n{\"type\":\"error\"") != std::string::npos);
    still_serving();
  }
  CHECK(w.sim.requests().size() == cases.size()); // only still_serving's requests went upstream
}

TEST_CASE("paths, methods and credentials: refused before any credential is attached") {
  auto &w = the_world();
  w.sim.clear_requests();
  std::vector<refusal_case> cases = {
      {"dot segments", authed("GET /v1/models/.. HTTP/1.1\r\nHost: h\r\n") + "\r\n", 404},
      {"encoded dots", authed("GET /v1/models/%2e%2e HTTP/1.1\r\nHost: h\r\n") + "\r\n", 404},
      {"encoded slashes",
       authed("GET /v1/models/..%2f..%2fv1%2forganizations HTTP/1.1\r\nHost: h\r\n") + "\r\n", 404},
      {"an empty segment", authed("GET //v1/models HTTP/1.1\r\nHost: h\r\n") + "\r\n", 404},
      {"an absolute-form target",
       authed("GET http://evil.example/v1/models HTTP/1.1\r\nHost: h\r\n") + "\r\n", 404},
      {"an asterisk target", authed("OPTIONS * HTTP/1.1\r\nHost: h\r\n") + "\r\n", 404},
      {"CONNECT", authed("CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: h\r\n") + "\r\n", 404},
      {"a wrong method", authed("DELETE /v1/messages HTTP/1.1\r\nHost: h\r\n") + "\r\n", 405},
      {"no key", "GET /v1/models HTTP/1.1\r\nHost: h\r\n\r\n", 401},
      {"a wrong key", "GET /v1/models HTTP/1.1\r\nHost: h\r\nx-api-key: nope\r\n\r\n", 401},
      {"two keys that disagree",
       authed("GET /v1/models HTTP/1.1\r\nHost: h\r\n") + "x-api-key: other\r\n\r\n", 401},
      {"a key and a Bearer that disagree",
       authed("GET /v1/models HTTP/1.1\r\nHost: h\r\n") + "Authorization: Bearer x\r\n\r\n", 401},
      {"the key in the query string",
       "GET /v1/models?x-api-key=" + proxy_key + " HTTP/1.1\r\nHost: h\r\n\r\n", 401},
      {"the admin route with a wrong admin key",
       "POST /admin/credentials HTTP/1.1\r\nHost: h\r\nx-admin-key: guess\r\nContent-Length: "
       "2\r\n\r\n{}",
       401},
      {"a target that is not UTF-8", "GET /\xff\xfe\xc3 HTTP/1.1\r\nHost: h\r\n\r\n", 404},
  };
  for (const auto &c : cases) {
    INFO(c.name);
    auto got = send_raw(w.a->port, c.request + "GET /health HTTP/1.1\r\nHost: h\r\n\r\n", 1s);
    CHECK(status_of(got) == c.status);
    still_serving();
  }
  for (const auto &r : w.sim.requests())
    CHECK(r.target.rfind("/v1/messages", 0) == 0); // still_serving's, nothing else
}

TEST_CASE("bad JSON bodies get 400 from the proxy, deep nesting included") {
  auto &w = the_world();
  for (const std::string &body :
       {std::string("{"), std::string("[]"), std::string("{\"model\":1,\"messages\":[]}"),
        std::string(200000, '[') + std::string(200000, ']'), std::string("{\"model\":\"m\"}"),
        std::string("\xff\xfe{}")}) {
    auto got = send_raw(w.a->port, post_head("Connection: close\r\nContent-Length: " +
                                             std::to_string(body.size()) + "\r\n\r\n") +
                                       body);
    CHECK(status_of(got) == 400);
    still_serving();
  }
}

TEST_CASE("trailers: never forwarded, and a flood of them is bounded") {
  auto &w = the_world();
  w.sim.clear_requests();
  auto body = message_body(false);
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  auto start = post_head("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n") + size +
               "\r\n" + body + "\r\n0\r\n";
  auto got = send_raw(w.a->port, start + "x-smuggled: 1\r\nanthropic-beta: evil\r\n\r\n", 5s);
  CHECK(status_of(got) == 200);
  auto seen = w.sim.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("x-smuggled").empty());
  CHECK(seen[0].header("anthropic-beta").empty());

  std::string flood = start;
  for (int i = 0; i < 2000; ++i) // 2 MB of trailer lines
    flood += "x-t" + std::to_string(i) + ": " + std::string(1000, 'v') + "\r\n";
  got = send_raw(w.a->port, flood);
  CHECK(status_of(got) == 431);
  bounded_memory(64);
  still_serving();
}

TEST_CASE("slow senders, idle and never-reading clients are cut off; memory stays bounded") {
  auto &w = the_world();
  {
    raw_client slow(w.a->port); // a head one byte at a time, never finished
    for (char ch : std::string("GET /health HTTP/1.1\r\nHost: h\r\n"))
      slow.send(std::string(1, ch));
    CHECK(slow.closed_by_peer(5s)); // the 2 s idle timeout
  }
  {
    raw_client partial(w.a->port); // declares a body and sends a little of it
    partial.send(post_head("Content-Length: 1000\r\n\r\n") + "{\"model\":");
    CHECK(partial.closed_by_peer(5s));
  }
  {
    // A client that asks for a stream and never reads: dropped after the write timeout.
    std::vector<std::unique_ptr<raw_client>> sleepers;
    auto body = message_body(true);
    for (int i = 0; i < 20; ++i) {
      sleepers.push_back(std::make_unique<raw_client>(w.a->port));
      sleepers.back()->send(post_head("Content-Length: " + std::to_string(body.size()) +
                                      "\r\nx-sim-event-delay-ms: 0\r\n\r\n") +
                            body);
    }
    still_serving();
    bounded_memory(64);
  }
  {
    // Many idle connections at once.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    std::size_t n = std::min<std::size_t>(2000, rl.rlim_cur > 200 ? rl.rlim_cur - 200 : 0);
    std::vector<std::unique_ptr<raw_client>> idle;
    for (std::size_t i = 0; i < n; ++i)
      idle.push_back(std::make_unique<raw_client>(w.a->port));
    still_serving();
    bounded_memory(96);
    std::size_t closed = 0;
    auto deadline = std::chrono::steady_clock::now() + 6s;
    for (auto &c : idle) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      closed += c->closed_by_peer(std::max(left, 10ms)) ? 1 : 0;
    }
    CHECK(closed == n); // the idle timeout ended every one
  }
  still_serving();
}

TEST_CASE("pipelining: a flood of requests in one write is answered in order") {
  auto &w = the_world();
  std::string flood;
  for (int i = 0; i < 300; ++i)
    flood += "GET /health HTTP/1.1\r\nHost: h\r\n\r\n";
  flood += "GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  auto got = send_raw(w.a->port, flood, 10s);
  int answers = 0;
  for (auto at = got.find("HTTP/1.1 200"); at != std::string::npos;
       at = got.find("HTTP/1.1 200", at + 1))
    ++answers;
  CHECK(answers == 301);
  still_serving();
}

TEST_CASE("Expect: 100-continue with a body over the limit gets 413 and no 100") {
  auto &w = the_world();
  auto got =
      send_raw(w.a->port, post_head("Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n"));
  CHECK(status_of(got) == 413);
  CHECK(got.find("100 Continue") == std::string::npos);
  still_serving();
}

TEST_CASE("a client that leaves mid-body or mid-stream costs nothing lasting") {
  auto &w = the_world();
  {
    raw_client c(w.a->port);
    c.send(post_head("Content-Length: 100000\r\n\r\n") + std::string(5000, 'x'));
    c.close();
  }
  {
    raw_client c(w.a->port);
    auto body = message_body(true);
    c.send(post_head("Content-Length: " + std::to_string(body.size()) +
                     "\r\nx-sim-event-delay-ms: 200\r\n\r\n") +
           body);
    c.read_until("event: message_start", 5s);
    c.close();
  }
  still_serving();
  auto health = call(w.a->port, http::verb::get, "/health");
  CHECK(eventually(
      [&] {
        return call(w.a->port, http::verb::get, "/health").body.find("\"requests_in_flight\":0") !=
               std::string::npos;
      },
      5s));
}

TEST_CASE(
    "a misbehaving upstream: each answer is Anthropic-shaped or a cut connection, never a hang") {
  auto &w = the_world();
  auto body = message_body(false);
  auto request = post_head("Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\n\r\n") +
                 body;
  struct upstream_case {
    const char *name;
    upstream_mode mode;
    unsigned status; ///< 0: the response is cut short (its head may have gone out)
  };
  for (auto c : std::vector<upstream_case>{
           {"garbage instead of HTTP", upstream_mode::garbage, 502},
           {"endless response headers", upstream_mode::endless_headers, 502},
           {"a body shorter than its Content-Length", upstream_mode::short_body, 200},
           {"a body longer than its Content-Length", upstream_mode::long_body, 200},
           {"a flood of 100 Continue", upstream_mode::continue_flood, 200},
           {"silence after the head", upstream_mode::stall_after_head, 200},
           {"broken chunked framing", upstream_mode::bad_chunks, 200},
           {"a close before any answer", upstream_mode::close_at_once, 502},
           {"an upstream 401", upstream_mode::echo_key, 401}}) {
    INFO(c.name);
    w.mode = c.mode;
    auto got = send_raw(w.b->port, request, 8s);
    if (c.status == 502 || c.status == 401) {
      CHECK(status_of(got) == c.status);
      CHECK(got.find("{\"type\":\"error\"") != std::string::npos);
    }
    if (c.mode == upstream_mode::long_body)
      CHECK(got.find("EXTRA-BYTES") == std::string::npos);
    if (c.mode == upstream_mode::short_body)
      CHECK(got.find("Content-Length: 1000") != std::string::npos); // cut: the client can tell
    if (c.mode == upstream_mode::stall_after_head || c.mode == upstream_mode::bad_chunks) {
      INFO(got);
      CHECK(got.find("event: error") != std::string::npos);
    }
    still_serving(w.b->port);
  }
  auto rss = w.b->rss_kib() / 1024;
  CHECK(rss < ceiling(64));
}

TEST_CASE("a token endpoint that echoes the refresh token: 503, and the token shown nowhere") {
  auto &w = the_world();
  auto res = post_messages(w.c->port, message_body(false), {{"x-api-key", proxy_key}});
  w.received += res.body;
  CHECK(res.status == 503);
  CHECK(res.body.find("[redacted]") != std::string::npos);
  auto health = call(w.c->port, http::verb::get, "/health");
  w.received += health.body;
  CHECK(health.body.find("invalid_request") != std::string::npos);
  CHECK_FALSE(w.bad_token_endpoint.requests().empty());
}

TEST_CASE("secrets sweep: no secret in anything the proxies printed or the clients received") {
  auto &w = the_world();
  // The ordinary routes too, each answer kept: a stream, count_tokens, models, the admin route.
  auto keep = [&](const reply &r) {
    w.received += r.body;
    for (const auto &h : r.headers)
      w.received += std::string(h.name_string()) + ": " + std::string(h.value()) + "\n";
    return r.status;
  };
  CHECK(keep(post_messages(w.a->port, message_body(true), {{"x-api-key", proxy_key}})) == 200);
  CHECK(keep(call(w.a->port, http::verb::post, "/v1/messages/count_tokens", message_body(false),
                  {{"x-api-key", proxy_key}, {"content-type", "application/json"}})) == 200);
  CHECK(keep(call(w.a->port, http::verb::get, "/v1/models", "", {{"x-api-key", proxy_key}})) ==
        200);
  CHECK(keep(call(w.a->port, http::verb::post, "/admin/credentials", "{\"not\":\"credentials\"}",
                  {{"x-admin-key", admin_key}, {"content-type", "application/json"}})) == 400);
  CHECK(keep(call(w.c->port, http::verb::get, "/health")) == 503);
  std::string printed = w.a->output() + w.b->output() + w.c->output();
  REQUIRE(printed.find("\"event\":\"request\"") != std::string::npos); // the logs were on
  REQUIRE(w.received.size() > 10000);                                  // and much was answered
  for (const auto &secret : {upstream_key, proxy_key, admin_key, access_token, refresh_token}) {
    INFO(secret.substr(0, 14));
    CHECK(printed.find(secret) == std::string::npos);
    CHECK(w.received.find(secret) == std::string::npos);
  }
}
