#include "actors/token_board.hpp"

namespace proxy {
namespace {

std::atomic<std::uint64_t> next_board_id{1};

/// One thread's copy of the last token it read, and from which board and publication.
struct thread_copy {
  std::uint64_t board = 0;
  std::uint64_t version = 0;
  std::shared_ptr<const published_token> token;
};

thread_local thread_copy copy;

} // namespace

token_board::token_board() : id_(next_board_id++) {}

void token_board::publish(std::shared_ptr<const published_token> token) {
  std::lock_guard<std::mutex> lock(mutex_);
  current_ = std::move(token);
  version_.fetch_add(1, std::memory_order_release);
}

const published_token *token_board::fresh(std::int64_t now_ms) const {
  auto version = version_.load(std::memory_order_acquire);
  if (copy.board != id_ || copy.version != version) {
    std::lock_guard<std::mutex> lock(mutex_);
    copy.board = id_;
    copy.version = version_.load(std::memory_order_relaxed);
    copy.token = current_;
  }
  if (!copy.token || copy.token->fresh_until_ms <= now_ms)
    return nullptr;
  return copy.token.get();
}

} // namespace proxy
