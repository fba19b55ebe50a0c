#include "http/header_policy.hpp"

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
} // namespace

TEST_CASE("request headers: end-to-end pass, hop-by-hop and credentials drop, ours added") {
  http::fields client;
  client.set("Host", "proxy.local");
  client.set("Connection", "keep-alive, x-hop");
  client.set("x-hop", "1");
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
  client.set("x-stainless-lang", "js");
  client.set("anthropic-version", "2026-10-21");
  client.insert("anthropic-beta", "tools-2024, prompt-caching");
  client.insert("anthropic-beta", "prompt-caching,extra");

  auto up =
      upstream_request_headers(client, {upstream_auth::scheme::api_key, "sk-upstream", false});
  CHECK(values(up, "x-api-key") == std::vector<std::string>{"sk-upstream"});
  CHECK(values(up, "authorization").empty());
  for (auto dropped : {"host", "connection", "x-hop", "keep-alive", "transfer-encoding",
                       "content-length", "accept-encoding", "cookie", "proxy-authorization"})
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
  auto up = upstream_request_headers(client, {upstream_auth::scheme::bearer, "tok", true});
  CHECK(values(up, "authorization") == std::vector<std::string>{"Bearer tok"});
  CHECK(values(up, "x-api-key").empty());
  CHECK(values(up, "anthropic-beta") == std::vector<std::string>{"oauth-2025-04-20,tools"});
  CHECK(values(up, "anthropic-version") == std::vector<std::string>{"2023-06-01"});

  http::fields bare;
  auto up2 = upstream_request_headers(bare, {upstream_auth::scheme::bearer, "tok", true});
  CHECK(values(up2, "anthropic-beta") == std::vector<std::string>{"oauth-2025-04-20"});
  auto up3 = upstream_request_headers(bare, {upstream_auth::scheme::api_key, "k", false});
  CHECK(values(up3, "anthropic-beta").empty());
}

TEST_CASE("response headers keep what clients use and drop framing") {
  http::fields upstream;
  upstream.set("request-id", "req_1");
  upstream.set("retry-after", "7");
  upstream.set("anthropic-ratelimit-requests-remaining", "0");
  upstream.set("content-type", "text/event-stream");
  upstream.set("content-length", "5");
  upstream.set("transfer-encoding", "chunked");
  upstream.set("connection", "close");
  upstream.set("set-cookie", "s=1");
  http::fields out;
  copy_response_headers(upstream, out);
  CHECK(values(out, "request-id") == std::vector<std::string>{"req_1"});
  CHECK(values(out, "retry-after") == std::vector<std::string>{"7"});
  CHECK(values(out, "anthropic-ratelimit-requests-remaining") == std::vector<std::string>{"0"});
  CHECK(values(out, "content-type") == std::vector<std::string>{"text/event-stream"});
  for (auto dropped : {"content-length", "transfer-encoding", "connection", "set-cookie"})
    CHECK(values(out, dropped).empty());
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
