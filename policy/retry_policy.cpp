#include "policy/retry_policy.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace proxy {
namespace {

/// A non-negative decimal number, or none.
std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value) ||
      value < 0)
    return std::nullopt;
  return value;
}

} // namespace

bool retryable_status(unsigned status, std::string_view should_retry) {
  if (iequals(trim(should_retry), "false"))
    return false;
  switch (status) {
  case 400:
  case 401:
  case 403:
  case 404:
  case 413:
    return false;
  case 429:
  case 500:
  case 502:
  case 503:
  case 504:
  case 529:
    return true;
  default:
    return status >= 400 && iequals(trim(should_retry), "true");
  }
}

std::optional<std::chrono::milliseconds> retry_wait(std::string_view retry_after,
                                                    std::string_view retry_after_ms, int attempt,
                                                    std::chrono::milliseconds max_wait,
                                                    double jitter) {
  using ms = std::chrono::milliseconds;
  std::optional<double> asked_ms;
  if (auto v = parse_number(retry_after_ms))
    asked_ms = *v;
  else if (auto s = parse_number(retry_after))
    asked_ms = *s * 1000;
  if (asked_ms) {
    if (*asked_ms > static_cast<double>(max_wait.count()))
      return std::nullopt;
    return ms(static_cast<std::int64_t>(std::ceil(*asked_ms)));
  }
  double backoff = std::min(500.0 * std::pow(2.0, std::clamp(attempt, 0, 16)), 8000.0);
  backoff *= 1.0 - 0.25 * std::clamp(jitter, 0.0, 1.0);
  return std::min(ms(static_cast<std::int64_t>(backoff)), max_wait);
}

} // namespace proxy
