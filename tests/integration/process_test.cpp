// The claude-proxy binary as a real process: SIGKILL right after a refresh must lose nothing,
// because the rotated pair reached the disk before it was used; SIGTERM ends it cleanly.
#include "auth/credentials.hpp"
#include "harness.hpp"
#include "io/credential_file.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace testing;

namespace {

/// A credentials file in a fresh home folder holding a pair the simulator issued, already
/// expired (so the first request refreshes), and the environment of a proxy that uses it.
struct expired_credentials {
  temp_dir dir;
  std::string creds = dir.path + "/.credentials.json";
  sim::server::token_pair pair;
  std::vector<std::string> env;
  explicit expired_credentials(sim::server &upstream)
      : pair(upstream.issue_tokens(std::chrono::hours(1))),
        env{"HOME=" + dir.path, "UPSTREAM_URL=" + upstream.base_url(),
            "OAUTH_TOKEN_URL=" + upstream.base_url() + "/v1/oauth/token",
            "CLAUDE_CREDENTIALS_FILE=" + creds} {
    REQUIRE(proxy::write_file_durably(
        creds,
        proxy::update_claude_credentials("", {pair.access_token, pair.refresh_token, 1000})));
  }
};

} // namespace

TEST_CASE("SIGKILL right after a refresh, restart: the rotated pair was on disk") {
  sim::server upstream(sim::options{});
  upstream.start();
  expired_credentials file(upstream);
  const auto &creds = file.creds;
  const auto &pair = file.pair;
  const auto &env = file.env;
  {
    proxy_process p(env);
    REQUIRE(post_messages(p.port, message_body(false)).status == 200);
    REQUIRE(upstream.refresh_count() == 1);
    auto status = p.stop(SIGKILL);
    CHECK(WIFSIGNALED(status));
  }
  // The old refresh token is spent upstream; only the one on disk can work now.
  auto saved = proxy::parse_claude_credentials(proxy::read_text_file(creds).value());
  REQUIRE(saved);
  CHECK(saved->refresh_token != pair.refresh_token);
  upstream.expire_access_tokens(); // force the restarted proxy to use the saved refresh token
  proxy_process again(env);
  CHECK(post_messages(again.port, message_body(true)).status == 200);
  CHECK(upstream.refresh_count() == 2);
  auto health = testing::call(again.port, http::verb::get, "/health");
  CHECK(health.status == 200);
  CHECK(health.body.find("\"mode\":\"oauth\"") != std::string::npos);
  auto status = again.stop(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("no credentials: demo mode, said loudly in /health") {
  temp_dir dir;
  proxy_process p({"HOME=" + dir.path});
  auto health = testing::call(p.port, http::verb::get, "/health");
  CHECK(health.status == 200);
  CHECK(health.body.find("\"mode\":\"simulator\"") != std::string::npos);
  CHECK(health.body.find("DEMO MODE") != std::string::npos);
  auto res = post_messages(p.port, message_body(true));
  CHECK(res.status == 200);
  CHECK(res.body.find("event: message_stop") != std::string::npos);
  CHECK(WEXITSTATUS(p.stop(SIGTERM)) == 0);
}

TEST_CASE("REQUIRE_CREDENTIALS: no credential is an error, not demo mode") {
  temp_dir dir;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::string bin = proxy_bin(), home = "HOME=" + dir.path, require = "REQUIRE_CREDENTIALS=1";
  std::vector<char *> argv = {bin.data(), nullptr};
  std::vector<char *> envp = {home.data(), require.data(), nullptr};
  pid_t pid;
  REQUIRE(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid); // it must exit by itself
  std::string err;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    err.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(err.find("no credential found") != std::string::npos);
  CHECK(err.find("DEMO MODE") == std::string::npos);
}

TEST_CASE("two proxies sharing one credentials file: one refresh, both keep working") {
  sim::server upstream(sim::options{});
  upstream.start();
  expired_credentials file(upstream); // the first request to either proxy refreshes
  const auto &creds = file.creds;
  const auto &pair = file.pair;
  proxy_process a(file.env), b(file.env);
  // Both hit at the same moment, several times over.
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&, i] {
      if (post_messages(i % 2 ? a.port : b.port, message_body(false)).status == 200)
        ++ok;
    });
  for (auto &t : clients)
    t.join();
  CHECK(ok == 8);
  CHECK(upstream.refresh_count() == 1); // the other adopted the new pair from the file
  CHECK(post_messages(a.port, message_body(true)).status == 200);
  CHECK(post_messages(b.port, message_body(true)).status == 200);
  auto saved = proxy::parse_claude_credentials(proxy::read_text_file(creds).value());
  REQUIRE(saved);
  CHECK(saved->refresh_token != pair.refresh_token);
  // Compact JSON, as Claude Code writes it.
  CHECK(proxy::read_text_file(creds).value().find('\n') == std::string::npos);
}
