#pragma once
// The upstream's latest rate-limit headers (anthropic-ratelimit-*): API keys get the
// requests/tokens families, subscription credentials the unified 5-hour and 7-day ones. Each
// answer that carries them replaces what was known, header by header. Shared by every thread.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace proxy {

using header_pairs = std::vector<std::pair<std::string, std::string>>;

class rate_limit_board {
public:
  /// Lower-case names; values as sent.
  void update(const header_pairs &headers, std::int64_t now_ms);
  /// Every header known, sorted by name.
  header_pairs snapshot() const;
  std::int64_t updated_ms() const;

private:
  mutable std::mutex mutex_;
  header_pairs latest_;
  std::int64_t updated_ms_ = 0;
};

/// A rate-limit value as a number for a gauge: numbers as they are, RFC 3339 times (the reset
/// headers of API keys) as Unix seconds. None for anything else (a status word).
bool rate_limit_number(std::string_view value, double &out);

} // namespace proxy
