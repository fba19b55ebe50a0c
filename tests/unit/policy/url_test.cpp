#include "policy/url.hpp"

#include <catch2/catch.hpp>

using namespace proxy;

TEST_CASE("URLs with scheme defaults, ports, base paths and IPv6") {
  auto a = parse_url("https://api.anthropic.com");
  REQUIRE(a);
  CHECK(a->tls);
  CHECK(a->host == "api.anthropic.com");
  CHECK(a->port == "443");
  CHECK(a->base_path.empty());
  CHECK(a->target("/v1/messages") == "/v1/messages");
  CHECK(a->host_header() == "api.anthropic.com");

  auto b = parse_url("http://127.0.0.1:9000/base/");
  REQUIRE(b);
  CHECK_FALSE(b->tls);
  CHECK(b->port == "9000");
  CHECK(b->target("/v1/models") == "/base/v1/models");
  CHECK(b->host_header() == "127.0.0.1:9000");
  CHECK(b->to_string() == "http://127.0.0.1:9000/base");

  auto c = parse_url("http://[::1]:8080");
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->port == "8080");
  CHECK(c->host_header() == "[::1]:8080"); // found by the url fuzzer: the brackets were lost
  CHECK(c->to_string() == "http://[::1]:8080");
}

TEST_CASE("bad URLs are rejected with a reason") {
  CHECK_FALSE(parse_url("ftp://x"));
  CHECK_FALSE(parse_url("https://"));
  CHECK_FALSE(parse_url("https://host:99999999"));
  CHECK_FALSE(parse_url("https://host:abc"));
  CHECK_FALSE(parse_url("https://user:pw@host"));
  CHECK(parse_url("https://user:pw@host").error().find("user") != std::string::npos);
  // Found by the url fuzzer: control characters and spaces were taken as part of the host or
  // the path, and went into Host headers and request targets.
  CHECK_FALSE(parse_url(std::string("http://1y\x0e\0:7", 13)));
  CHECK_FALSE(parse_url("https://a b"));
  CHECK_FALSE(parse_url("https://host/a b"));
  CHECK_FALSE(parse_url("https://host/../x"));
  CHECK_FALSE(parse_url("https://host:0"));
  CHECK_FALSE(parse_url("https://host:65536"));
  CHECK(parse_url("https://host:65535"));
}
