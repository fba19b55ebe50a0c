#include "app/config.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace proxy;

namespace {
env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string &name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}
} // namespace

TEST_CASE("defaults") {
  auto c = parse_config({}, env_of({{"HOME", "/home/u"}}));
  REQUIRE(c);
  CHECK(c->host == "127.0.0.1");
  CHECK(c->port == 8080);
  CHECK(c->upstream_url == "https://api.anthropic.com");
  CHECK(c->token_url == "https://platform.claude.com/v1/oauth/token");
  CHECK(c->oauth_client_id == "9d1c250a-e61b-44d9-88ed-5944d1962f5e");
  CHECK(c->credentials_file == "/home/u/.claude/.credentials.json");
  CHECK(c->max_body_bytes == 32u * 1024 * 1024);
  CHECK(c->io_threads == 0);           // one network thread per CPU
  CHECK(c->pool_max_connections == 0); // derived from the file descriptor limit
  CHECK_FALSE(parse_config({"--actor-threads", "2"}, env_of({}))); // actors run on io threads
  CHECK_FALSE(c->demo);
  CHECK(c->max_in_flight == 0); // the stream capacity
  CHECK(c->retries == 2);
  CHECK(c->retry_max_wait == std::chrono::seconds(10));
  CHECK(c->drain_timeout == std::chrono::seconds(300));
  CHECK(c->sse_keepalive == std::chrono::seconds(0)); // off
}

TEST_CASE("operations settings from the environment and flags") {
  auto env = env_of({{"MAX_IN_FLIGHT", "100"},
                     {"UPSTREAM_RETRIES", "0"},
                     {"RETRY_MAX_WAIT_SECONDS", "3"},
                     {"DRAIN_TIMEOUT_SECONDS", "900"},
                     {"SSE_KEEPALIVE_SECONDS", "15"}});
  auto c = parse_config({"--retries", "4"}, env);
  REQUIRE(c);
  CHECK(c->max_in_flight == 100);
  CHECK(c->retries == 4);
  CHECK(c->retry_max_wait == std::chrono::seconds(3));
  CHECK(c->drain_timeout == std::chrono::seconds(900));
  CHECK(c->sse_keepalive == std::chrono::seconds(15));
  CHECK_FALSE(parse_config({"--max-in-flight", "0"}, env_of({})));
  CHECK_FALSE(parse_config({"--retries", "-1"}, env_of({})));
}

TEST_CASE("environment, then flags override") {
  auto env = env_of({{"PORT", "9000"},
                     {"PROXY_API_KEY", "k1"},
                     {"ANTHROPIC_API_KEY", "sk"},
                     {"REFRESH_MARGIN_SECONDS", "60"},
                     {"PROXY_DEMO", "true"}});
  auto c = parse_config({"--port", "9100", "--host=0.0.0.0", "--io-threads", "2"}, env);
  REQUIRE(c);
  CHECK(c->port == 9100);
  CHECK(c->host == "0.0.0.0");
  CHECK(c->io_threads == 2);
  CHECK(c->proxy_api_key == "k1");
  CHECK(c->anthropic_api_key == "sk");
  CHECK(c->refresh_margin == std::chrono::seconds(60));
  CHECK(c->demo);
  auto d = parse_config({"--demo=false"}, env);
  REQUIRE(d);
  CHECK_FALSE(d->demo);
}

TEST_CASE("mistakes get clear messages") {
  auto env = env_of({});
  CHECK(parse_config({"--bogus"}, env).error().find("unknown flag '--bogus'") == 0);
  CHECK(parse_config({"--port"}, env).error() == "--port needs a value");
  CHECK(parse_config({"--port", "x"}, env).error().find("--port expects a number") == 0);
  CHECK(parse_config({"--io-threads", "0"}, env).error().find(">= 1") != std::string::npos);
  CHECK(parse_config({}, env_of({{"PORT", "-1"}})).error().find("PORT") == 0);
}

TEST_CASE("help documents every flag with its environment variable") {
  auto help = help_text();
  for (auto s : {"--host",
                 "HOST",
                 "--port",
                 "PORT",
                 "--upstream",
                 "UPSTREAM_URL",
                 "--token-url",
                 "--credentials-file",
                 "PROXY_API_KEY",
                 "--max-body-bytes",
                 "ANTHROPIC_API_KEY",
                 "CLAUDE_OAUTH_CREDS",
                 "CLAUDE_CODE_OAUTH_TOKEN",
                 "--healthcheck",
                 "--max-in-flight",
                 "MAX_IN_FLIGHT",
                 "--retries",
                 "UPSTREAM_RETRIES",
                 "--retry-max-wait",
                 "RETRY_MAX_WAIT_SECONDS",
                 "--drain-timeout",
                 "DRAIN_TIMEOUT_SECONDS",
                 "--sse-keepalive",
                 "SSE_KEEPALIVE_SECONDS"})
    CHECK(help.find(s) != std::string::npos);
  CHECK(parse_config({"--help"}, env_of({}))->help);
}

TEST_CASE("loopback hosts") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
}
