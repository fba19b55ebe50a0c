// OAuth credentials end to end against the simulator's token endpoint.
#include "auth/credentials.hpp"
#include "harness.hpp"
#include "io/credential_file.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace testing;

namespace {

/// Writes Claude Code credentials for the pair, with an extra key that must survive rewrites.
void write_credentials(const std::string &path, const sim::server::token_pair &pair) {
  auto text = proxy::update_claude_credentials(
      R"({"claudeAiOauth":{"scopes":["user:inference"],"subscriptionType":"max"},"keepMe":42})",
      {pair.access_token, pair.refresh_token, pair.expires_at_ms});
  REQUIRE(proxy::write_file_durably(path, text));
}

proxy::oauth_tokens read_credentials(const std::string &path) {
  auto parsed = proxy::parse_claude_credentials(proxy::read_text_file(path).value());
  REQUIRE(parsed);
  return parsed.value();
}

} // namespace

TEST_CASE("OAuth requests carry Bearer and the oauth beta merged with the client's") {
  rig r;
  temp_dir dir;
  r.cfg.credentials_file = dir.path + "/.credentials.json";
  write_credentials(r.cfg.credentials_file, r.upstream->issue_tokens(std::chrono::hours(1)));
  r.start_proxy();
  auto res = post_messages(r.port, message_body(false), {{"anthropic-beta", "tools-x"}});
  REQUIRE(res.status == 200);
  auto got = r.upstream->requests().back();
  CHECK(got.header("authorization").find("Bearer sk-ant-oat01-sim-") == 0);
  CHECK(got.header("x-api-key").empty());
  CHECK(got.header("anthropic-beta") == "tools-x,oauth-2025-04-20");
  CHECK(r.upstream->refresh_count() == 0);
}

TEST_CASE("20 concurrent requests on an expired token cause exactly one refresh") {
  rig r;
  temp_dir dir;
  r.cfg.credentials_file = dir.path + "/.credentials.json";
  auto pair = r.upstream->issue_tokens(std::chrono::hours(1));
  pair.expires_at_ms = 1000; // the proxy believes it expired long ago
  write_credentials(r.cfg.credentials_file, pair);
  r.start_proxy();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&, i] {
      if (post_messages(r.port, message_body(i % 2 == 0)).status == 200)
        ++ok;
    });
  for (auto &t : threads)
    t.join();
  CHECK(ok == 20);
  CHECK(r.upstream->refresh_count() == 1);
  auto saved = read_credentials(r.cfg.credentials_file);
  CHECK(saved.refresh_token != pair.refresh_token);
  CHECK(saved.access_token != pair.access_token);
  CHECK(proxy::read_text_file(r.cfg.credentials_file).value().find("\"keepMe\":42") !=
        std::string::npos);
  auto health = testing::call(r.port, http::verb::get, "/health");
  CHECK(health.status == 200);
  CHECK(health.body.find("\"refreshes\":1") != std::string::npos);
  CHECK(health.body.find(saved.access_token) == std::string::npos);
  CHECK(health.body.find(saved.refresh_token) == std::string::npos);
}

TEST_CASE("an upstream 401 triggers one refresh and one retry, invisible to the client") {
  rig r;
  temp_dir dir;
  r.cfg.credentials_file = dir.path + "/.credentials.json";
  write_credentials(r.cfg.credentials_file, r.upstream->issue_tokens(std::chrono::hours(1)));
  r.start_proxy();
  REQUIRE(post_messages(r.port, message_body(false)).status == 200);
  r.upstream->expire_access_tokens(); // revoked early: the proxy still thinks it is valid
  auto res = post_messages(r.port, message_body(true));
  CHECK(res.status == 200);
  CHECK(res.body.find("event: message_stop") != std::string::npos);
  CHECK(r.upstream->refresh_count() == 1);
}

TEST_CASE("a proxy killed right after a refresh restarts with the rotated pair from disk") {
  rig r;
  temp_dir dir;
  r.cfg.credentials_file = dir.path + "/.credentials.json";
  auto pair = r.upstream->issue_tokens(std::chrono::hours(1));
  pair.expires_at_ms = 1000;
  write_credentials(r.cfg.credentials_file, pair);
  r.start_proxy();
  REQUIRE(post_messages(r.port, message_body(false)).status == 200);
  REQUIRE(r.upstream->refresh_count() == 1);
  r.stop_proxy(); // the old refresh token is now spent upstream
  r.cfg.port = 0;
  r.start_proxy();
  auto res = post_messages(r.port, message_body(false));
  CHECK(res.status == 200);
  CHECK(r.upstream->refresh_count() == 1); // the saved access token was still good
  r.upstream->expire_access_tokens();      // and the saved refresh token works too
  CHECK(post_messages(r.port, message_body(false)).status == 200);
  CHECK(r.upstream->refresh_count() == 2);
}

TEST_CASE("invalid_grant: clients get a clear 503 and /health shows it") {
  rig r;
  temp_dir dir;
  r.cfg.credentials_file = dir.path + "/.credentials.json";
  write_credentials(r.cfg.credentials_file, {"sk-ant-oat01-unknown", "sk-ant-ort01-unknown", 1000});
  r.start_proxy();
  auto res = post_messages(r.port, message_body(false));
  CHECK(res.status == 503);
  CHECK(res.body.find("needs a new login") != std::string::npos);
  CHECK(res.body.find("invalid_grant") != std::string::npos);
  CHECK(res.body.find("sk-ant-ort01-unknown") == std::string::npos);
  auto health = testing::call(r.port, http::verb::get, "/health");
  CHECK(health.status == 503);
  CHECK(health.body.find("\"state\":\"needs_login\"") != std::string::npos);
  CHECK(health.body.find("invalid_grant") != std::string::npos);
  CHECK(health.body.find("sk-ant-") == std::string::npos);
}

TEST_CASE("the proxy key is enforced and never forwarded") {
  auto r = rig::with_api_key();
  r->cfg.proxy_api_key = "proxy-secret-key";
  r->start_proxy();
  auto none = post_messages(r->port, message_body(false));
  CHECK(none.status == 401);
  CHECK(none.body.find("authentication_error") != std::string::npos);
  CHECK(post_messages(r->port, message_body(false), {{"x-api-key", "wrong"}}).status == 401);
  CHECK(r->upstream->requests().empty());
  CHECK(post_messages(r->port, message_body(false), {{"x-api-key", "proxy-secret-key"}}).status ==
        200);
  CHECK(post_messages(r->port, message_body(false), {{"authorization", "Bearer proxy-secret-key"}})
            .status == 200);
  for (const auto &req : r->upstream->requests())
    for (const auto &[name, value] : req.headers)
      CHECK(value.find("proxy-secret-key") == std::string::npos);
  // Health stays open for monitors; it carries no secret.
  CHECK(testing::call(r->port, http::verb::get, "/health").status == 200);
}

TEST_CASE("with a sync URL the rotated pair is POSTed there before it is used") {
  rig r;
  auto pair = r.upstream->issue_tokens(std::chrono::hours(1));
  r.cfg.oauth_creds_json =
      proxy::update_claude_credentials(R"({"claudeAiOauth":{"subscriptionType":"max"}})",
                                       {pair.access_token, pair.refresh_token, 1000});
  r.cfg.credentials_sync_url = r.upstream->base_url() + "/_sim/credentials";
  r.start_proxy();
  REQUIRE(post_messages(r.port, message_body(false)).status == 200);
  auto seen = r.upstream->requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].target == "/v1/oauth/token");
  CHECK(seen[1].target == "/_sim/credentials");
  CHECK(seen[2].target == "/v1/messages");
  auto synced = proxy::parse_claude_credentials(seen[1].body);
  REQUIRE(synced);
  CHECK(seen[2].header("authorization") == "Bearer " + synced->access_token);
  CHECK(synced->refresh_token != pair.refresh_token);
  CHECK(seen[1].body.find("\"subscriptionType\":\"max\"") != std::string::npos);
}

TEST_CASE("the admin route swaps in pushed credentials without a restart") {
  rig r;
  temp_dir dir;
  r.cfg.credentials_file = dir.path + "/.credentials.json";
  write_credentials(r.cfg.credentials_file, {"sk-ant-oat01-dead", "sk-ant-ort01-dead", 1000});
  r.cfg.admin_key = "admin-secret";
  r.start_proxy();
  REQUIRE(post_messages(r.port, message_body(false)).status == 503); // invalid_grant
  auto fresh = r.upstream->issue_tokens(std::chrono::hours(1));
  auto body = proxy::update_claude_credentials(
      "", {fresh.access_token, fresh.refresh_token, fresh.expires_at_ms});
  auto push = [&](const char *key, const std::string &b) {
    return testing::call(r.port, http::verb::post, "/admin/credentials", b,
                         {{"content-type", "application/json"}, {"x-admin-key", key}});
  };
  CHECK(push("wrong", body).status == 401);
  auto bad = push("admin-secret", "{\"nope\":1}");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("claudeAiOauth") != std::string::npos);
  auto ok = push("admin-secret", body);
  CHECK(ok.status == 200);
  CHECK(ok.body.find("\"status\":\"ok\"") != std::string::npos);
  CHECK(testing::call(r.port, http::verb::get, "/health").status == 200);
  CHECK(post_messages(r.port, message_body(false)).status == 200);
  CHECK(r.upstream->requests().back().header("authorization") == "Bearer " + fresh.access_token);
  // The pushed pair was written to the credentials file too.
  CHECK(read_credentials(r.cfg.credentials_file).refresh_token == fresh.refresh_token);
}

TEST_CASE("a rotated API key pushed to the admin route serves the next request, no restart") {
  sim::options so;
  so.api_key = "sk-ant-api03-rotated-key";
  rig r(so);
  r.cfg.anthropic_api_key = "sk-ant-api03-revoked-key";
  r.cfg.admin_key = "admin-secret";
  r.start_proxy();
  REQUIRE(post_messages(r.port, message_body(false)).status == 401);
  auto push = [&](const std::string &b) {
    return testing::call(r.port, http::verb::post, "/admin/credentials", b,
                         {{"content-type", "application/json"}, {"x-admin-key", "admin-secret"}});
  };
  auto bad = push(R"({"api_key":"two words"})");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("two words") == std::string::npos);
  auto ok = push(R"({"api_key":"sk-ant-api03-rotated-key"})");
  CHECK(ok.status == 200);
  CHECK(ok.body.find("rotated") == std::string::npos); // never echoed
  CHECK(post_messages(r.port, message_body(false)).status == 200);
  CHECK(r.upstream->requests().back().header("x-api-key") == "sk-ant-api03-rotated-key");
  auto health = testing::call(r.port, http::verb::get, "/health");
  CHECK(health.body.find("rotated-key") == std::string::npos);
}

TEST_CASE("without an admin key the admin route does not exist") {
  auto r = rig::with_api_key();
  r->start_proxy();
  auto res =
      testing::call(r->port, http::verb::post, "/admin/credentials", "{}", {{"x-admin-key", ""}});
  CHECK(res.status == 404);
}

TEST_CASE("a long-lived token the upstream rejects: its 401 reaches the client unchanged") {
  rig r;
  r.cfg.oauth_static_token = "sk-ant-oat01-long-lived-but-unknown";
  r.start_proxy();
  auto res = post_messages(r.port, message_body(false));
  CHECK(res.status == 401);
  CHECK(res.body == r.upstream->requests().back().response_body);
  CHECK(res.body.find("Invalid bearer token") != std::string::npos);
  CHECK(r.upstream->requests().size() == 1); // no refresh, no retry
  CHECK(res.body.find("long-lived-but-unknown") == std::string::npos);
}
