// The board sessions read the current token from, without a message.
#include "actors/token_board.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace proxy;

namespace {
std::shared_ptr<const published_token> token(std::string secret, std::int64_t fresh_until) {
  auto t = std::make_shared<published_token>();
  t->auth = {upstream_auth::scheme::api_key, std::move(secret), false};
  t->fresh_until_ms = fresh_until;
  return t;
}
} // namespace

TEST_CASE("nothing published, nothing fresh; a stale token is not handed out") {
  token_board board;
  CHECK(board.fresh(0) == nullptr);
  board.publish(token("a", 1000));
  REQUIRE(board.fresh(999) != nullptr);
  CHECK(board.fresh(999)->auth.secret == "a");
  CHECK(board.fresh(1000) == nullptr);
  board.publish(nullptr);
  CHECK(board.fresh(0) == nullptr);
}

TEST_CASE("every thread sees a new publication on its next read") {
  token_board board;
  board.publish(token("v0", 1'000'000));
  std::atomic<int> version{0};
  std::atomic<bool> stop{false};
  std::atomic<int> stale_reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i)
    readers.emplace_back([&] {
      while (!stop) {
        int published = version.load(); // read before the board: the board may only be newer
        const auto *t = board.fresh(0);
        if (!t || std::stoi(t->auth.secret.substr(1)) < published)
          ++stale_reads;
      }
    });
  for (int v = 1; v <= 2000; ++v) {
    board.publish(token("v" + std::to_string(v), 1'000'000));
    version = v;
  }
  stop = true;
  for (auto &t : readers)
    t.join();
  CHECK(stale_reads == 0);
  CHECK(board.fresh(0)->auth.secret == "v2000");
}

TEST_CASE("two boards do not share their per-thread copies") {
  token_board a, b;
  a.publish(token("from-a", 10));
  b.publish(token("from-b", 10));
  CHECK(a.fresh(0)->auth.secret == "from-a");
  CHECK(b.fresh(0)->auth.secret == "from-b");
  CHECK(a.fresh(0)->auth.secret == "from-a");
}
