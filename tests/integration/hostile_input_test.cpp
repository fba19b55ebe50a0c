// The defects a hostile-input run found, one test each: trailers, bodies on bodiless routes,
// header floods, framing of refusals, path tricks, echoed secrets, ambiguous credentials, Host,
// the admin route, 404 bodies, and a stream that dies inside an event passed on in pieces.
#include "harness.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

using namespace testing;
using namespace std::chrono_literals;

namespace {

/// The number of HTTP responses in `bytes` (status lines at the start of a response).
int responses_in(const std::string &bytes) {
  int n = 0;
  for (auto at = bytes.find("HTTP/1."); at != std::string::npos; at = bytes.find("HTTP/1.", at + 1))
    ++n;
  return n;
}

/// Whether `text` is a JSON document a strict parser (one that validates UTF-8) accepts.
bool strict_json(const std::string &text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !d.HasParseError();
}

std::string body_of(const std::string &response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

/// A chunked POST /v1/messages head and its one body chunk, without the last chunk.
std::string chunked_messages_start() {
  auto body = message_body(false);
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  return "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\n\r\n" +
         std::string(size) + "\r\n" + body + "\r\n";
}

} // namespace

TEST_CASE("a trailer section larger than the header limit gets 431 and the connection closes") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  c.send(chunked_messages_start() + "0\r\n");
  std::string line = "x-filler: " + std::string(1000, 'a') + "\r\n";
  std::string got;
  for (int i = 0; i < 400 && got.empty(); ++i) { // up to 400 KB, never the end of the trailers
    try {
      c.send(line);
    } catch (const boost::system::system_error &) {
      break; // the proxy closed on us: fine, the answer is read below
    }
  }
  got = c.read_until("\r\n\r\n", 5s);
  CHECK(got.rfind("HTTP/1.1 431", 0) == 0);
  CHECK(c.closed_by_peer(5s));
  CHECK(r->upstream->requests().empty());
}

TEST_CASE("trailer fields never reach the upstream as headers") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  c.send(chunked_messages_start() + "0\r\nx-anything: 1\r\nanthropic-beta: smuggled\r\n\r\n");
  auto got = c.read_until("\"end_turn\"", 10s);
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  auto seen = r->upstream->requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("x-anything").empty());
  CHECK(seen[0].header("anthropic-beta").empty());
}

TEST_CASE("a route that takes no body refuses a declared body without reading it") {
  auto r = rig::with_api_key();
  r->start_proxy();
  for (const char *head :
       {"GET /health HTTP/1.1\r\nHost: a\r\nContent-Length: 31457280\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 31457280\r\n\r\n"}) {
    INFO(head);
    raw_client c(r->port);
    c.send(std::string(head) + std::string(1024, 'x')); // far less than declared
    auto got = c.read_until("\r\n\r\n", 5s);
    bool refused = got.rfind("HTTP/1.1 400", 0) == 0 || got.rfind("HTTP/1.1 404", 0) == 0;
    CHECK(refused);
    CHECK(got.find("Connection: close") != std::string::npos);
    CHECK(c.closed_by_peer(5s));
  }
  auto health = call(r->port, http::verb::get, "/health");
  CHECK(health.status == 200);
}

TEST_CASE("more header fields than allowed get 431; a long Connection list is fine") {
  auto r = rig::with_api_key();
  r->start_proxy();
  std::string many = "GET /health HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 6000; ++i)
    many += "x-" + std::to_string(i) + ": v\r\n";
  raw_client c(r->port);
  c.send(many + "\r\n");
  auto got = c.read_until("\r\n\r\n", 5s);
  CHECK(got.rfind("HTTP/1.1 431", 0) == 0);
  CHECK(c.closed_by_peer(5s));

  std::string tokens;
  for (int i = 0; i < 6000; ++i) // about 45 KB: within the header limit
    tokens += (i ? "," : "") + std::string("x-") + std::to_string(i);
  auto res = post_messages(r->port, message_body(false), {{"Connection", tokens}});
  CHECK(res.status == 200);
}

TEST_CASE("refusals honour Connection: close and HTTP/1.0, like every other response") {
  auto r = rig::with_api_key();
  r->cfg.proxy_api_key = "proxy-key-for-tests";
  r->start_proxy();
  const std::string next = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n";
  for (const char *first :
       {"GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET /nope HTTP/1.0\r\n\r\n",
        "POST /v1/messages HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        "DELETE /v1/messages HTTP/1.0\r\n\r\n"}) {
    INFO(first);
    raw_client c(r->port);
    c.send(first + next);
    CHECK(c.closed_by_peer(5s));
    auto got = c.read_until("never", 0ms);
    CHECK(responses_in(got) == 1);
    CHECK(got.find("HTTP/1.1 200") == std::string::npos);
  }
}

TEST_CASE("paths with dot segments or encodings are refused and never reach the upstream") {
  auto r = rig::with_api_key();
  r->start_proxy();
  for (const char *target :
       {"/v1/models/..", "/v1/models/%2e%2e", "/v1/models/..%2f..%2fv1%2forganizations",
        "/v1/models/./x", "//v1/models", "/v1/models/a%2fb"}) {
    INFO(target);
    auto res = call(r->port, http::verb::get, target);
    CHECK(res.status == 404);
  }
  CHECK(r->upstream->requests().empty());
  CHECK(call(r->port, http::verb::get, "/v1/models/claude-sonnet-4-6").status == 200);
}

TEST_CASE("a secret the token endpoint echoes is redacted in the answer and in /health") {
  const std::string refresh = "sk-ant-ort01-echoed-refresh-token-0123456789";
  const std::string access = "sk-ant-oat01-expired-access-token-0123456789";
  scripted_server token_endpoint([&](const std::string &) {
    std::string body = R"({"error":"invalid_request","error_description":"refresh token )" +
                       refresh + R"( is not valid"})";
    return std::vector<std::string>{"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                                    "Content-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body};
  });
  rig r;
  r.cfg.token_url = token_endpoint.url() + "/v1/oauth/token";
  r.cfg.oauth_creds_json = R"({"claudeAiOauth":{"accessToken":")" + access +
                           R"(","refreshToken":")" + refresh + R"(","expiresAt":1000}})";
  r.start_proxy();
  auto res = post_messages(r.port, message_body(false));
  CHECK(res.status == 503);
  CHECK(res.body.find(refresh) == std::string::npos);
  CHECK(res.body.find("[redacted]") != std::string::npos);
  auto health = call(r.port, http::verb::get, "/health");
  CHECK(health.body.find(refresh) == std::string::npos);
  CHECK(health.body.find(access) == std::string::npos);
  CHECK(health.body.find("invalid_request") != std::string::npos);
  REQUIRE_FALSE(token_endpoint.requests().empty()); // the endpoint was asked
}

TEST_CASE("credentials that disagree are refused with 401") {
  auto r = rig::with_api_key();
  r->cfg.proxy_api_key = "proxy-key-for-tests";
  r->start_proxy();
  auto body = message_body(false);
  CHECK(post_messages(r->port, body,
                      {{"x-api-key", "proxy-key-for-tests"}, {"x-api-key", "something-else"}})
            .status == 401);
  CHECK(post_messages(r->port, body,
                      {{"x-api-key", "proxy-key-for-tests"}, {"Authorization", "Bearer other"}})
            .status == 401);
  CHECK(post_messages(
            r->port, body,
            {{"x-api-key", "proxy-key-for-tests"}, {"Authorization", "Bearer proxy-key-for-tests"}})
            .status == 200);
  CHECK(r->upstream->requests().size() == 1);
}

TEST_CASE("a request without a Host, with two, or with an invalid one gets 400") {
  auto r = rig::with_api_key();
  r->start_proxy();
  for (const char *request :
       {"GET /health HTTP/1.1\r\n\r\n", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: a b\r\n\r\n", "GET /health HTTP/1.1\r\nHost: a/b\r\n\r\n",
        "GET /health HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"}) {
    INFO(request);
    raw_client c(r->port);
    c.send(request);
    auto got = c.read_until("\r\n\r\n", 5s);
    CHECK(got.rfind("HTTP/1.", 0) == 0);
    CHECK(got.substr(8, 4) == " 400");
  }
  raw_client old(r->port);
  old.send("GET /health HTTP/1.0\r\n\r\n"); // HTTP/1.0 needs no Host
  CHECK(old.read_until("\r\n\r\n", 5s).rfind("HTTP/1.0 200", 0) == 0);
}

TEST_CASE("without an admin key the admin route is not found whatever the method") {
  auto r = rig::with_api_key();
  r->start_proxy();
  for (auto method : {http::verb::post, http::verb::get, http::verb::put, http::verb::delete_}) {
    auto res = call(r->port, method, "/admin/credentials", "", {{"x-admin-key", "guess"}});
    CHECK(res.status == 404);
  }
}

TEST_CASE("404 bodies are valid UTF-8, cut at a character, whatever bytes the target held") {
  auto r = rig::with_api_key();
  r->start_proxy();
  std::string target = "/\xff\xfe";
  for (int i = 0; i < 150; ++i)
    target += "\xc3\xa9"; // é: a cut at 200 bytes could fall inside one
  raw_client c(r->port);
  c.send("GET " + target + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(c.closed_by_peer(5s));
  auto got = c.read_until("never", 0ms);
  REQUIRE(got.rfind("HTTP/1.1 404", 0) == 0);
  auto body = body_of(got);
  CHECK(strict_json(body));
}

TEST_CASE(
    "an upstream dying inside an event passed on in pieces cuts the response, no half event") {
  const std::string big(300 * 1024, 'x'); // larger than the framer holds
  scripted_server upstream([&](const std::string &) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    std::string first = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n";
    std::string partial = "event: content_block_delta\ndata: {\"text\":\"" + big;
    auto chunk = [](const std::string &s) {
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", s.size());
      return size + s + "\r\n";
    };
    return std::vector<std::string>{head + chunk(first), chunk(partial)}; // then the close
  });
  rig r;
  r.cfg.upstream_url = upstream.url();
  r.cfg.anthropic_api_key = "sk-ant-api03-test-key-for-scripted-upstream";
  r.start_proxy();
  raw_client c(r.port);
  auto body = message_body(true);
  c.send("POST /v1/messages HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body);
  CHECK(c.closed_by_peer(10s));
  auto got = c.read_until("never", 0ms);
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(got.find("message_start") != std::string::npos);
  CHECK(got.find(big.substr(0, 1000)) != std::string::npos); // the piece went out
  CHECK(got.find("event: error") == std::string::npos);      // nothing that ends the half event
  CHECK(got.find("\r\n0\r\n\r\n") == std::string::npos);     // and no clean end
}
