#include "policy/header_policy.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <catch2/catch.hpp>

using namespace proxy;

namespace {

std::vector<std::string> values(const http::fields &f, std::string_view name) {
  std::vector<std::string> out;
  auto [a, b] = f.equal_range(name);
  for (auto it = a; it != b; ++it)
    out.emplace_back(it->value());
  return out;
}

/// Parses a request head the way the upstream would.
http::request<http::empty_body> parse_request(const std::string &head) {
  http::request_parser<http::empty_body> p;
  p.header_limit(1u << 20);
  boost::system::error_code ec;
  p.eager(true);
  auto used = p.put(boost::asio::buffer(head), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(used == head.size());
  REQUIRE(p.is_header_done());
  return p.release();
}

http::response<http::empty_body> parse_response(const std::string &head) {
  http::response_parser<http::empty_body> p;
  p.skip(true); // a head only
  boost::system::error_code ec;
  auto used = p.put(boost::asio::buffer(head), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(used == head.size());
  return p.release();
}

} // namespace

TEST_CASE("request headers: end-to-end pass, hop-by-hop and credentials drop, ours added") {
  http::fields client;
  client.set("Host", "proxy.local");
  client.set("Connection", "keep-alive, x-hop");
  client.set("x-hop", "1");
  client.set("X-HOP", "2");
  client.set("Keep-Alive", "timeout=5");
  client.set("Transfer-Encoding", "chunked");
  client.set("Content-Length", "10");
  client.set("Content-Type", "application/json");
  client.set("Accept", "text/event-stream");
  client.set("Accept-Encoding", "gzip");
  client.set("User-Agent", "my-agent/1.0");
  client.set("x-api-key", "client-proxy-key");
  client.set("Authorization", "Bearer client-proxy-key");
  client.set("Cookie", "a=b");
  client.set("Proxy-Authorization", "Basic x");
  client.set("Expect", "100-continue");
  client.set("x-stainless-lang", "js");
  client.set("anthropic-version", "2026-10-21");
  client.insert("anthropic-beta", "tools-2024, prompt-caching");
  client.insert("anthropic-beta", "prompt-caching,extra");

  auto head =
      upstream_request_head(http::verb::post, "/base/v1/messages", "api.example:8443", client,
                            {upstream_auth::scheme::api_key, "sk-upstream", false}, 42);
  CHECK(head.rfind("POST /base/v1/messages HTTP/1.1\r\n", 0) == 0);
  auto up = parse_request(head);
  CHECK(values(up, "host") == std::vector<std::string>{"api.example:8443"});
  CHECK(values(up, "content-length") == std::vector<std::string>{"42"});
  CHECK(values(up, "x-api-key") == std::vector<std::string>{"sk-upstream"});
  CHECK(values(up, "authorization").empty());
  for (auto dropped : {"connection", "x-hop", "keep-alive", "transfer-encoding", "accept-encoding",
                       "cookie", "proxy-authorization", "expect"})
    CHECK(values(up, dropped).empty());
  CHECK(values(up, "content-type") == std::vector<std::string>{"application/json"});
  CHECK(values(up, "accept") == std::vector<std::string>{"text/event-stream"});
  CHECK(values(up, "user-agent") == std::vector<std::string>{"my-agent/1.0"});
  CHECK(values(up, "x-stainless-lang") == std::vector<std::string>{"js"});
  CHECK(values(up, "anthropic-version") == std::vector<std::string>{"2026-10-21"});
  CHECK(values(up, "anthropic-beta") ==
        std::vector<std::string>{"tools-2024,prompt-caching,extra"});
}

TEST_CASE("OAuth adds Bearer and merges the oauth beta once; version defaults") {
  http::fields client;
  client.set("anthropic-beta", "oauth-2025-04-20,tools");
  auto up = parse_request(upstream_request_head(http::verb::post, "/v1/messages", "h", client,
                                                {upstream_auth::scheme::bearer, "tok", true}, 2));
  CHECK(values(up, "authorization") == std::vector<std::string>{"Bearer tok"});
  CHECK(values(up, "x-api-key").empty());
  CHECK(values(up, "anthropic-beta") == std::vector<std::string>{"oauth-2025-04-20,tools"});
  CHECK(values(up, "anthropic-version") == std::vector<std::string>{"2023-06-01"});

  http::fields bare;
  auto up2 = parse_request(upstream_request_head(http::verb::get, "/v1/models", "h", bare,
                                                 {upstream_auth::scheme::bearer, "tok", true},
                                                 std::nullopt));
  CHECK(values(up2, "anthropic-beta") == std::vector<std::string>{"oauth-2025-04-20"});
  CHECK(values(up2, "content-length").empty()); // a GET without a body says nothing
  auto up3 = parse_request(upstream_request_head(http::verb::get, "/v1/models", "h", bare,
                                                 {upstream_auth::scheme::api_key, "k", false},
                                                 std::nullopt));
  CHECK(values(up3, "anthropic-beta").empty());
}

TEST_CASE("a Connection header naming thousands of tokens drops exactly those headers") {
  http::fields client;
  std::string tokens;
  for (int i = 0; i < 5000; ++i)
    tokens += "x-t" + std::to_string(i) + ",";
  client.set("Connection", tokens);
  for (int i = 0; i < 6000; ++i)
    client.insert("x-h" + std::to_string(i), "v");
  client.insert("x-t77", "hop");
  auto up = parse_request(upstream_request_head(http::verb::post, "/v1/messages", "h", client,
                                                {upstream_auth::scheme::api_key, "k", false}, 0));
  CHECK(values(up, "x-t77").empty());
  CHECK(values(up, "X-T77").empty());
  CHECK(values(up, "x-h5999") == std::vector<std::string>{"v"});
  CHECK(values(up, "x-h0") == std::vector<std::string>{"v"});
}

TEST_CASE("response heads: the upstream's end-to-end headers, our framing") {
  http::fields upstream;
  upstream.set("request-id", "req_1");
  upstream.set("retry-after", "7");
  upstream.set("anthropic-ratelimit-requests-remaining", "0");
  upstream.set("content-type", "text/event-stream");
  upstream.set("content-length", "5");
  upstream.set("transfer-encoding", "chunked");
  upstream.set("connection", "close, x-hop");
  upstream.set("x-hop", "1");
  upstream.set("set-cookie", "s=1");
  std::string head;
  append_status_line(head, 11, 529);
  append_response_headers(head, upstream);
  end_response_head(head, 11, body_framing::chunked, 0, true);
  CHECK(head.rfind("HTTP/1.1 529 Overloaded\r\n", 0) == 0);
  auto out = parse_response(head);
  CHECK(out.result_int() == 529);
  CHECK(values(out, "request-id") == std::vector<std::string>{"req_1"});
  CHECK(values(out, "retry-after") == std::vector<std::string>{"7"});
  CHECK(values(out, "anthropic-ratelimit-requests-remaining") == std::vector<std::string>{"0"});
  CHECK(values(out, "content-type") == std::vector<std::string>{"text/event-stream"});
  CHECK(values(out, "transfer-encoding") == std::vector<std::string>{"chunked"});
  for (auto dropped : {"content-length", "connection", "x-hop", "set-cookie"})
    CHECK(values(out, dropped).empty());
  CHECK(out.keep_alive());

  std::string closing;
  append_status_line(closing, 11, 200, "OK");
  end_response_head(closing, 11, body_framing::length, 12, false);
  auto c = parse_response(closing);
  CHECK(values(c, "content-length") == std::vector<std::string>{"12"});
  CHECK_FALSE(c.keep_alive());

  std::string old;
  append_status_line(old, 10, 200);
  end_response_head(old, 10, body_framing::length, 0, true);
  CHECK(old.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
  CHECK(parse_response(old).keep_alive()); // HTTP/1.0 keeps the connection only when told
}

TEST_CASE("the proxy key is accepted as x-api-key or Bearer, nothing else") {
  http::fields a;
  a.set("x-api-key", "secret");
  CHECK(client_key_matches(a, "secret"));
  CHECK_FALSE(client_key_matches(a, "secret2"));
  CHECK_FALSE(client_key_matches(a, "secre"));
  http::fields b;
  b.set("Authorization", "Bearer secret");
  CHECK(client_key_matches(b, "secret"));
  http::fields c;
  c.set("Authorization", "Basic secret");
  CHECK_FALSE(client_key_matches(c, "secret"));
  CHECK_FALSE(client_key_matches(http::fields{}, "secret"));
  CHECK(secure_equals("abc", "abc"));
  CHECK_FALSE(secure_equals("abc", "abd"));
  CHECK_FALSE(secure_equals("", "abc"));
}

TEST_CASE("credentials that disagree are ambiguous and refused") {
  http::fields twice;
  twice.insert("x-api-key", "secret");
  twice.insert("x-api-key", "other");
  CHECK_FALSE(client_key_matches(twice, "secret"));
  http::fields both_differ;
  both_differ.set("x-api-key", "secret");
  both_differ.set("Authorization", "Bearer other");
  CHECK_FALSE(client_key_matches(both_differ, "secret"));
  http::fields key_and_basic;
  key_and_basic.set("x-api-key", "secret");
  key_and_basic.set("Authorization", "Basic secret");
  CHECK_FALSE(client_key_matches(key_and_basic, "secret"));
  http::fields both_same; // some clients send the key both ways
  both_same.set("x-api-key", "secret");
  both_same.set("Authorization", "Bearer secret");
  CHECK(client_key_matches(both_same, "secret"));
  http::fields same_twice;
  same_twice.insert("x-api-key", "secret");
  same_twice.insert("x-api-key", "secret");
  CHECK(client_key_matches(same_twice, "secret"));
}

TEST_CASE("Host: exactly one valid one in HTTP/1.1, at most one in HTTP/1.0") {
  for (const char *ok : {"localhost", "localhost:8080", "127.0.0.1:1", "[::1]:8080", "[::1]",
                         "a.example", "xn--bcher-kva.example", "host:", "a%20b"})
    CHECK(valid_host(ok));
  for (const char *bad : {"", ":80", "a b", "a/b", "a@b", "[::1", "[]", "[::1]x", "h:8o",
                          "h:123456", "h\\x", "a%2", "a%zz", "h:80:90", "[g::1]"}) {
    INFO(bad);
    CHECK_FALSE(valid_host(bad));
  }
  http::fields none;
  CHECK(host_error(none, 11));
  CHECK_FALSE(host_error(none, 10));
  http::fields two;
  two.insert(http::field::host, "a");
  two.insert(http::field::host, "a");
  CHECK(host_error(two, 11)->status == 400);
  CHECK(host_error(two, 10)->status == 400);
  http::fields invalid;
  invalid.set(http::field::host, "a b");
  CHECK(host_error(invalid, 11));
  http::fields good;
  good.set(http::field::host, "127.0.0.1:8080");
  CHECK_FALSE(host_error(good, 11));
}

TEST_CASE("a body streamed without a known length goes upstream chunked, never with a length") {
  http::fields client;
  client.set(http::field::transfer_encoding, "chunked");
  client.set(http::field::content_type, "multipart/form-data; boundary=x");
  auto up = parse_request(upstream_request_head(http::verb::post, "/v1/files", "h", client,
                                                {upstream_auth::scheme::api_key, "k", false},
                                                std::nullopt, true));
  CHECK(values(up, "transfer-encoding") == std::vector<std::string>{"chunked"});
  CHECK(values(up, "content-length").empty());
  CHECK(values(up, "content-type") == std::vector<std::string>{"multipart/form-data; boundary=x"});
}

TEST_CASE("the client's origin: X-Forwarded-Proto https, else http, and the Host it used") {
  http::fields client;
  client.set(http::field::host, "proxy.example:8443");
  CHECK(client_origin(client) == "http://proxy.example:8443");
  client.set("x-forwarded-proto", "HTTPS");
  CHECK(client_origin(client) == "https://proxy.example:8443");
  client.set("x-forwarded-proto", "gopher");
  CHECK(client_origin(client) == "http://proxy.example:8443");
}
