// Untrusted input: clear Anthropic-shaped errors, no crash, no stuck connection.
#include "harness.hpp"

#include <catch2/catch.hpp>

using namespace testing;

namespace {
void still_serving(std::uint16_t port) {
  auto h = testing::call(port, http::verb::get, "/health");
  CHECK(h.status == 200);
}
} // namespace

TEST_CASE("bad bodies, paths and methods") {
  auto r = rig::with_api_key();
  r->cfg.max_body_bytes = 4096;
  r->cfg.max_header_bytes = 2048;
  r->start_proxy();

  auto bad_json = post_messages(r->port, "{\"model\": ");
  CHECK(bad_json.status == 400);
  CHECK(bad_json.body.find("invalid_request_error") != std::string::npos);
  CHECK(bad_json.body.find("not valid JSON") != std::string::npos);
  CHECK(bad_json.header("request-id").find("req_proxy_") == 0);

  auto no_model = post_messages(r->port, R"({"messages":[]})");
  CHECK(no_model.status == 400);
  CHECK(no_model.body.find("model") != std::string::npos);

  auto wrong_type = testing::call(r->port, http::verb::post, "/v1/messages", message_body(false),
                                  {{"content-type", "text/plain"}});
  CHECK(wrong_type.status == 400);
  CHECK(wrong_type.body.find("Content-Type") != std::string::npos);

  auto too_big =
      post_messages(r->port, message_body(false, R"(,"pad":")" + std::string(8000, 'x') + "\""));
  CHECK(too_big.status == 413);
  CHECK(too_big.body.find("request_too_large") != std::string::npos);

  auto unknown = testing::call(r->port, http::verb::get, "/v2/whatever");
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("not_found_error") != std::string::npos);

  auto wrong_method = testing::call(r->port, http::verb::put, "/v1/messages");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.body.find("invalid_request_error") != std::string::npos);

  CHECK(r->upstream->requests().empty()); // none of these reached the upstream
  still_serving(r->port);
}

TEST_CASE("malformed HTTP gets an answer and a closed connection") {
  auto r = rig::with_api_key();
  r->cfg.max_header_bytes = 2048;
  r->start_proxy();
  {
    raw_client c(r->port);
    c.send("THIS IS NOT HTTP\r\n\r\n");
    auto out = c.read_until("}", std::chrono::seconds(5));
    CHECK(out.find("HTTP/1.1 400") == 0);
    CHECK(out.find("invalid_request_error") != std::string::npos);
    CHECK(c.closed_by_peer(std::chrono::seconds(2)));
  }
  {
    raw_client c(r->port);
    c.send("BREW /v1/messages HTTP/1.1\r\nHost: x\r\n\r\n");
    auto out = c.read_until("}", std::chrono::seconds(5));
    CHECK((out.find("HTTP/1.1 405") == 0 || out.find("HTTP/1.1 400") == 0));
    CHECK(out.find("\"type\":\"error\"") != std::string::npos);
  }
  {
    raw_client c(r->port);
    c.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
    auto out = c.read_until("}", std::chrono::seconds(5));
    CHECK(out.find("HTTP/1.1 431") == 0);
    CHECK(c.closed_by_peer(std::chrono::seconds(2)));
  }
  {
    raw_client c(r->port); // a body shorter than announced, then silence: the idle timeout ends it
    c.send("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"");
    c.close();
  }
  still_serving(r->port);
}

TEST_CASE("a refused request is answered before its body is read, and the answer arrives") {
  auto r = rig::with_api_key();
  r->cfg.proxy_api_key = "proxy-secret-key";
  r->start_proxy();
  raw_client c(r->port);
  // Announces 20 MiB but sends only a little: the 401 must not wait for (or be lost to) the rest.
  c.send("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: 20971520\r\n\r\n" +
         std::string(64 * 1024, ' '));
  auto out = c.read_until("}", std::chrono::seconds(5));
  CHECK(out.find("HTTP/1.1 401") == 0);
  CHECK(out.find("authentication_error") != std::string::npos);
  CHECK(out.find("Connection: close") != std::string::npos);
  CHECK(c.closed_by_peer(std::chrono::seconds(5)));
  CHECK(r->upstream->requests().empty());
}

TEST_CASE("Expect: 100-continue is answered by the proxy and not sent upstream") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  auto body = message_body(false);
  c.send("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Expect: 100-continue\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  auto interim = c.read_until("\r\n\r\n", std::chrono::seconds(5));
  CHECK(interim.find("HTTP/1.1 100 Continue\r\n\r\n") == 0);
  c.send(body);
  auto out = c.read_until("\"usage\"", std::chrono::seconds(5));
  CHECK(out.find("HTTP/1.1 200 OK") != std::string::npos);
  REQUIRE(r->upstream->requests().size() == 1);
  CHECK(r->upstream->requests()[0].header("expect").empty());
  CHECK(r->upstream->requests()[0].body == body);
}

TEST_CASE("plain http:// is refused for upstreams off this machine") {
  auto cfg = test_config("http://upstream.example:8080"); // never contacted: refused at start
  cfg.anthropic_api_key = "k";
  proxy::proxy_app app(cfg);
  auto started = app.start();
  REQUIRE_FALSE(started);
  CHECK(started.error().find("refusing plain http://") == 0);
}
