// The credential actor with a fake token endpoint and a fake clock: no sockets.
#include "actors/credential_actor.hpp"
#include "actors/store_actor.hpp"
#include "auth/credentials.hpp"
#include "core/redact.hpp"
#include "io/credential_file.hpp"

#include "actor_fixture.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <thread>
#include <unistd.h>

using namespace proxy;

namespace {

/// Holds each refresh until the test answers it.
struct fake_endpoint : token_endpoint {
  std::mutex m;
  std::vector<std::string> seen_refresh_tokens;
  std::vector<std::function<void(refresh_outcome)>> pending;
  void refresh(std::string rt, std::function<void(refresh_outcome)> done) override {
    std::lock_guard<std::mutex> g(m);
    seen_refresh_tokens.push_back(rt);
    pending.push_back(std::move(done));
  }
  std::size_t calls() {
    std::lock_guard<std::mutex> g(m);
    return seen_refresh_tokens.size();
  }
  void answer(refresh_outcome o) {
    std::function<void(refresh_outcome)> f;
    {
      std::lock_guard<std::mutex> g(m);
      REQUIRE(!pending.empty());
      f = std::move(pending.front());
      pending.erase(pending.begin());
    }
    f(std::move(o));
  }
};

struct fixture : actor_fixture {
  std::shared_ptr<fake_endpoint> endpoint = std::make_shared<fake_endpoint>();
  std::shared_ptr<std::atomic<std::int64_t>> clock =
      std::make_shared<std::atomic<std::int64_t>>(1'000'000'000);
  std::shared_ptr<token_board> board = std::make_shared<token_board>();
  credential_setup oauth(std::int64_t expires_in_ms, std::string store = "") {
    credential_setup s;
    s.type = credential_setup::kind::oauth;
    s.tokens = {"access-1", "refresh-1", *clock + expires_in_ms};
    s.refresh_margin = std::chrono::seconds(300);
    s.endpoint = endpoint;
    s.board = board;
    s.store_path = std::move(store);
    if (!s.store_path.empty()) {
      s.store = sys->spawn<caf::detached>(store_behavior, s.store_path);
      track(s.store);
    }
    auto c = clock;
    s.now_ms = [c] { return c->load(); };
    return s;
  }
  token_reply ask(const caf::actor &a, caf::message msg) {
    return actor_fixture::ask<token_reply>(a, std::move(msg));
  }
  credential_status status(const caf::actor &a) {
    return actor_fixture::ask<credential_status>(a, status_atom::value);
  }
};

std::string temp_dir() {
  char dir[] = "/tmp/cred-actor-XXXXXX";
  REQUIRE(mkdtemp(dir));
  return dir;
}

} // namespace

TEST_CASE("API keys are handed out as x-api-key, without refresh") {
  fixture f;
  credential_setup s;
  s.type = credential_setup::kind::api_key;
  s.secret = "sk-test";
  s.now_ms = [] { return std::int64_t{0}; };
  auto a = f.track(f.sys->spawn(credential_behavior, s));
  auto r = f.ask(a, caf::make_message(get_token_atom::value));
  REQUIRE(r.ok);
  CHECK(r.auth.kind == upstream_auth::scheme::api_key);
  CHECK(r.auth.secret == "sk-test");
  CHECK_FALSE(r.auth.oauth);
  CHECK_FALSE(r.refreshable);
  CHECK(f.status(a).kind == "api_key");
}

TEST_CASE("a fresh OAuth token is used as it is") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(3600'000)));
  auto r = f.ask(a, caf::make_message(get_token_atom::value));
  REQUIRE(r.ok);
  CHECK(r.auth.kind == upstream_auth::scheme::bearer);
  CHECK(r.auth.oauth);
  CHECK(r.auth.secret == "access-1");
  CHECK(r.refreshable);
  CHECK(f.endpoint->calls() == 0);
  auto st = f.status(a);
  CHECK(st.state == "ok");
  CHECK(st.expires_in_s == 3600);
}

TEST_CASE("20 concurrent requests near expiry share exactly one refresh, persisted first") {
  fixture f;
  auto dir = temp_dir();
  auto path = dir + "/.credentials.json";
  REQUIRE(write_file_durably(
      path,
      R"({"claudeAiOauth":{"accessToken":"access-1","refreshToken":"refresh-1","expiresAt":0,"subscriptionType":"max"},"mcp":{"x":1}})"));
  auto a =
      f.track(f.sys->spawn(credential_behavior, f.oauth(60'000, path))); // inside the 300 s margin
  caf::scoped_actor self{*f.sys};
  for (int i = 0; i < 20; ++i)
    self->send(a, get_token_atom::value);
  auto st = f.status(a); // answered after all 20 were taken in
  CHECK(st.state == "refreshing");
  // The file is re-read (by the store actor) before the grant starts.
  REQUIRE(eventually_true([&] { return f.endpoint->calls() == 1; }));
  CHECK(f.endpoint->seen_refresh_tokens[0] == "refresh-1");
  f.endpoint->answer(oauth_tokens{"access-2", "refresh-2", *f.clock + 3600'000});
  int got = 0;
  for (int i = 0; i < 20; ++i)
    self->receive(
        [&](token_reply &r) {
          CHECK(r.ok);
          CHECK(r.auth.secret == "access-2");
          ++got;
        },
        caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  CHECK(got == 20);
  CHECK(f.endpoint->calls() == 1);
  auto saved = parse_claude_credentials(read_text_file(path).value());
  REQUIRE(saved);
  CHECK(saved->access_token == "access-2");
  CHECK(saved->refresh_token == "refresh-2");
  CHECK(read_text_file(path).value().find("\"mcp\":{\"x\":1}") != std::string::npos);
  CHECK(read_text_file(path).value().find("\"subscriptionType\":\"max\"") != std::string::npos);
  auto after = f.status(a);
  CHECK(after.state == "ok");
  CHECK(after.refreshes == 1);
  CHECK(after.last_refresh_ms == *f.clock);
}

TEST_CASE("a 401 forces one refresh; a token already replaced is not refreshed again") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(3600'000)));
  caf::scoped_actor self{*f.sys};
  self->send(a, refresh_atom::value, std::string("access-1"));
  f.status(a);
  REQUIRE(f.endpoint->calls() == 1);
  f.endpoint->answer(oauth_tokens{"access-2", "refresh-2", *f.clock + 3600'000});
  self->receive([](token_reply &r) { CHECK(r.auth.secret == "access-2"); },
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  // A session that used the old token learns of the new one without a second refresh.
  auto r = f.ask(a, caf::make_message(refresh_atom::value, std::string("access-1")));
  CHECK(r.auth.secret == "access-2");
  CHECK(f.endpoint->calls() == 1);
}

TEST_CASE("invalid_grant means a new login is needed, and says so") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(-1000))); // already expired
  caf::scoped_actor self{*f.sys};
  self->send(a, get_token_atom::value);
  f.status(a);
  REQUIRE(f.endpoint->calls() == 1);
  f.endpoint->answer(refresh_failure{true, "token endpoint answered 400 invalid_grant", {}});
  self->receive(
      [](token_reply &r) {
        CHECK_FALSE(r.ok);
        CHECK(r.error.status == 503);
        CHECK(r.error.message.find("needs a new login") != std::string::npos);
        CHECK(r.error.message.find("invalid_grant") != std::string::npos);
      },
      caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  auto again = f.ask(a, caf::make_message(get_token_atom::value));
  CHECK_FALSE(again.ok);
  CHECK(f.endpoint->calls() == 1); // no more refreshes with a dead refresh token
  auto st = f.status(a);
  CHECK(st.state == "needs_login");
  CHECK_FALSE(st.usable);
  CHECK(st.last_error == "token endpoint answered 400 invalid_grant");
}

TEST_CASE("retryable failures back off; a still-valid token keeps serving") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(100'000))); // valid, but due
  caf::scoped_actor self{*f.sys};
  self->send(a, get_token_atom::value);
  f.status(a);
  REQUIRE(f.endpoint->calls() == 1);
  f.endpoint->answer(
      refresh_failure{false, "token endpoint answered 429", std::chrono::seconds(600)});
  self->receive(
      [](token_reply &r) {
        CHECK(r.ok);
        CHECK(r.auth.secret == "access-1");
      },
      caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  CHECK(f.status(a).state == "backoff");
  CHECK(f.status(a).usable); // the old token still serves
  // During the backoff no new refresh is attempted.
  CHECK(f.ask(a, caf::make_message(get_token_atom::value)).ok);
  CHECK(f.endpoint->calls() == 1);
  // Once the token has expired while the backoff (the endpoint asked for 600 s; the proxy caps
  // it at 300 s) still runs, clients get a clear 503.
  *f.clock += 100'500;
  auto expired = f.ask(a, caf::make_message(get_token_atom::value));
  CHECK(f.endpoint->calls() == 1);
  CHECK_FALSE(expired.ok);
  CHECK(expired.error.status == 503);
  CHECK(expired.error.message.find("try again in 200 s") != std::string::npos);
  CHECK(expired.error.message.find("429") != std::string::npos);
  CHECK_FALSE(f.status(a).usable); // so /health answers 503
}

TEST_CASE("before refreshing, a newer pair in the file is adopted instead") {
  fixture f;
  auto dir = temp_dir();
  auto path = dir + "/.credentials.json";
  auto setup = f.oauth(60'000, path); // due for refresh
  REQUIRE(write_file_durably(path, update_claude_credentials("", setup.tokens)));
  auto a = f.track(f.sys->spawn(credential_behavior, setup));
  // Another process refreshed meanwhile.
  REQUIRE(write_file_durably(
      path, update_claude_credentials("", {"access-other", "refresh-other", *f.clock + 3600'000})));
  auto r = f.ask(a, caf::make_message(get_token_atom::value));
  REQUIRE(r.ok);
  CHECK(r.auth.secret == "access-other");
  CHECK(f.endpoint->calls() == 0);
}

namespace {
/// Holds each store until the test answers it.
struct fake_sink : credential_sink {
  std::mutex m;
  std::vector<std::string> stored;
  std::vector<std::function<void(std::string)>> pending;
  void store(std::string json, std::function<void(std::string)> done) override {
    std::lock_guard<std::mutex> g(m);
    stored.push_back(std::move(json));
    pending.push_back(std::move(done));
  }
  std::size_t calls() {
    std::lock_guard<std::mutex> g(m);
    return stored.size();
  }
  void answer(std::string error) {
    std::function<void(std::string)> f;
    {
      std::lock_guard<std::mutex> g(m);
      REQUIRE(!pending.empty());
      f = std::move(pending.front());
      pending.erase(pending.begin());
    }
    f(std::move(error));
  }
};
} // namespace

TEST_CASE("with a sink, a rotated pair is stored there before anyone gets it") {
  fixture f;
  auto sink = std::make_shared<fake_sink>();
  auto setup = f.oauth(-1000);
  setup.sink = sink;
  setup.source_json = R"({"claudeAiOauth":{"accessToken":"access-1","subscriptionType":"max"}})";
  auto a = f.track(f.sys->spawn(credential_behavior, setup));
  caf::scoped_actor self{*f.sys};
  self->send(a, get_token_atom::value);
  f.status(a);
  f.endpoint->answer(oauth_tokens{"access-2", "refresh-2", *f.clock + 3600'000});
  REQUIRE(eventually_true([&] { return sink->calls() == 1; }));
  // Not stored yet: nobody has the new token, and /health says a refresh is under way.
  CHECK(f.status(a).state == "refreshing");
  self->receive([](token_reply &) { FAIL("answered before the pair was stored"); },
                caf::after(std::chrono::milliseconds(100)) >> [] {});
  auto stored = parse_claude_credentials(sink->stored[0]);
  REQUIRE(stored);
  CHECK(stored->access_token == "access-2");
  CHECK(stored->refresh_token == "refresh-2");
  CHECK(sink->stored[0].find("\"subscriptionType\":\"max\"") != std::string::npos);
  sink->answer("");
  self->receive([](token_reply &r) { CHECK(r.auth.secret == "access-2"); },
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  CHECK(f.status(a).state == "ok");
}

TEST_CASE("a sink that keeps failing: retried, then the pair is used and stored later") {
  fixture f;
  auto sink = std::make_shared<fake_sink>();
  auto setup = f.oauth(-1000);
  setup.sink = sink;
  auto a = f.track(f.sys->spawn(credential_behavior, setup));
  caf::scoped_actor self{*f.sys};
  self->send(a, get_token_atom::value);
  f.status(a);
  f.endpoint->answer(oauth_tokens{"access-2", "refresh-2", *f.clock + 3600'000});
  for (std::size_t i = 1; i <= 3; ++i) {
    REQUIRE(eventually_true([&] { return sink->calls() == i; }));
    sink->answer("credential sync answered 503");
  }
  self->receive([](token_reply &r) { CHECK(r.auth.secret == "access-2"); },
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  auto st = f.status(a);
  CHECK(st.last_error ==
        "refreshed, but could not store the new tokens: credential sync answered 503");
  CHECK(sink->calls() == 3); // the background retry comes 30 s later
}

TEST_CASE("pushed credentials replace the old ones and clear a needs-login state") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(-1000)));
  caf::scoped_actor self{*f.sys};
  self->send(a, get_token_atom::value);
  f.status(a);
  f.endpoint->answer(refresh_failure{true, "token endpoint answered 400 invalid_grant", {}});
  self->receive([](token_reply &r) { CHECK_FALSE(r.ok); },
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  REQUIRE(f.status(a).state == "needs_login");
  auto pushed = f.ask(a, caf::make_message(replace_atom::value, oauth_tokens{"pushed-a", "pushed-r",
                                                                             *f.clock + 3600'000}));
  REQUIRE(pushed.ok);
  CHECK(pushed.auth.secret == "pushed-a");
  auto st = f.status(a);
  CHECK(st.state == "ok");
  CHECK(st.usable);
  CHECK(f.ask(a, caf::make_message(get_token_atom::value)).auth.secret == "pushed-a");
}

TEST_CASE("credentials cannot be pushed into a proxy running on an API key") {
  fixture f;
  credential_setup s;
  s.type = credential_setup::kind::api_key;
  s.secret = "sk";
  s.now_ms = [] { return std::int64_t{0}; };
  auto a = f.track(f.sys->spawn(credential_behavior, s));
  auto r = f.ask(a, caf::make_message(replace_atom::value, oauth_tokens{"x", "y", 1}));
  CHECK_FALSE(r.ok);
  CHECK(r.error.status == 409);
}

TEST_CASE("a rotated API key replaces the old one for requests from now on") {
  fixture f;
  credential_setup s;
  s.type = credential_setup::kind::api_key;
  s.secret = "sk-old-key-1";
  s.board = f.board;
  s.now_ms = [] { return std::int64_t{0}; };
  auto a = f.track(f.sys->spawn(credential_behavior, s));
  CHECK(f.ask(a, caf::make_message(get_token_atom::value)).auth.secret == "sk-old-key-1");
  auto r = f.ask(a, caf::make_message(replace_atom::value, std::string("sk-new-key-1")));
  REQUIRE(r.ok);
  CHECK(r.auth.secret == "sk-new-key-1");
  CHECK(f.ask(a, caf::make_message(get_token_atom::value)).auth.secret == "sk-new-key-1");
  const auto *token = f.board->fresh(0);
  REQUIRE(token != nullptr);
  CHECK(token->auth.secret == "sk-new-key-1");
  CHECK(redact("key sk-new-key-1 here") == "key [redacted] here");
}

TEST_CASE("an API key cannot be pushed into a proxy running on OAuth") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(3600'000)));
  auto r = f.ask(a, caf::make_message(replace_atom::value, std::string("sk-new-key-1")));
  CHECK_FALSE(r.ok);
  CHECK(r.error.status == 409);
  CHECK(f.ask(a, caf::make_message(get_token_atom::value)).auth.secret == "access-1");
}

TEST_CASE("the current token is published for sessions, and each new one after a refresh") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(3600'000)));
  f.status(a); // the actor has started
  const auto *token = f.board->fresh(*f.clock);
  REQUIRE(token != nullptr);
  CHECK(token->auth.secret == "access-1");
  CHECK(token->auth.oauth);
  CHECK(token->refreshable);
  // Fresh until the refresh margin: after that, sessions must ask the actor.
  CHECK(token->fresh_until_ms == *f.clock + 3600'000 - 300'000);
  CHECK(f.board->fresh(*f.clock + 3300'000) == nullptr);

  *f.clock += 3400'000; // inside the margin: the next ask refreshes
  caf::scoped_actor self{*f.sys};
  self->send(a, get_token_atom::value);
  f.status(a);
  REQUIRE(f.endpoint->calls() == 1);
  f.endpoint->answer(oauth_tokens{"access-2", "refresh-2", *f.clock + 3600'000});
  self->receive([](token_reply &r) { CHECK(r.auth.secret == "access-2"); },
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  token = f.board->fresh(*f.clock);
  REQUIRE(token != nullptr);
  CHECK(token->auth.secret == "access-2");
}

TEST_CASE("a credential that needs a new login is withdrawn from the board") {
  fixture f;
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(-1000)));
  f.status(a);
  CHECK(f.board->fresh(*f.clock) == nullptr); // expired: nothing to use without asking
  caf::scoped_actor self{*f.sys};
  self->send(a, get_token_atom::value);
  f.status(a);
  f.endpoint->answer(refresh_failure{true, "token endpoint answered 400 invalid_grant", {}});
  self->receive([](token_reply &r) { CHECK_FALSE(r.ok); },
                caf::after(std::chrono::seconds(5)) >> [] { FAIL("no reply"); });
  CHECK(f.board->fresh(*f.clock) == nullptr);
  // Pushed credentials are published at once.
  auto pushed = f.ask(a, caf::make_message(replace_atom::value, oauth_tokens{"pushed-a", "pushed-r",
                                                                             *f.clock + 3600'000}));
  REQUIRE(pushed.ok);
  const auto *token = f.board->fresh(*f.clock);
  REQUIRE(token != nullptr);
  CHECK(token->auth.secret == "pushed-a");
}

TEST_CASE("API keys are published as never stale") {
  fixture f;
  credential_setup s;
  s.type = credential_setup::kind::api_key;
  s.secret = "sk-test";
  s.board = f.board;
  s.now_ms = [] { return std::int64_t{0}; };
  auto a = f.track(f.sys->spawn(credential_behavior, s));
  f.status(a);
  const auto *token = f.board->fresh(std::numeric_limits<std::int64_t>::max() - 1);
  REQUIRE(token != nullptr);
  CHECK(token->auth.kind == upstream_auth::scheme::api_key);
  CHECK(token->auth.secret == "sk-test");
  CHECK_FALSE(token->refreshable);
}

TEST_CASE("draining: no refresh starts; a token still valid serves, an expired one gets 529") {
  fixture f;
  // Due for refresh (within the margin) but not expired.
  auto a = f.track(f.sys->spawn(credential_behavior, f.oauth(60'000)));
  caf::anon_send(a, drain_atom::value);
  auto r = f.ask(a, caf::make_message(get_token_atom::value));
  REQUIRE(r.ok);
  CHECK(r.auth.secret == "access-1");
  CHECK(f.endpoint->calls() == 0);
  *f.clock += 120'000; // now expired
  auto expired = f.ask(a, caf::make_message(get_token_atom::value));
  CHECK_FALSE(expired.ok);
  CHECK(expired.error.status == 529);
  CHECK(f.endpoint->calls() == 0);
}
