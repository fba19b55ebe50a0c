#include "metrics/rate_limits.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace proxy {

void rate_limit_board::update(header_views headers, std::int64_t now_ms) {
  if (headers.empty())
    return;
  std::lock_guard lock(mutex_);
  for (const auto &[name, value] : headers) {
    auto known = std::find_if(latest_.begin(), latest_.end(),
                              [&](const auto &entry) { return iequals(entry.first, name); });
    if (known != latest_.end()) {
      known->second.assign(value);
      continue;
    }
    if (latest_.size() >= 64) // the upstream names them; a bound all the same
      continue;
    auto lowered = ascii_lowered(name);
    auto at =
        std::lower_bound(latest_.begin(), latest_.end(), lowered,
                         [](const auto &entry, const std::string &n) { return entry.first < n; });
    latest_.insert(at, {std::move(lowered), std::string(value)});
  }
  updated_ms_ = now_ms;
}

header_pairs rate_limit_board::snapshot() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::int64_t rate_limit_board::updated_ms() const {
  std::lock_guard lock(mutex_);
  return updated_ms_;
}

bool rate_limit_board::note_extra_usage_refusal(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  bool changed = !refused_since_success_;
  refused_since_success_ = true;
  refusals_.fetch_add(1, std::memory_order_relaxed);
  last_refusal_ms_ = now_ms;
  return changed;
}

void rate_limit_board::note_success_slow() {
  std::lock_guard lock(mutex_);
  refused_since_success_ = false;
}

quota_state rate_limit_board::quota() const {
  std::lock_guard lock(mutex_);
  quota_state q;
  q.extra_usage_refusals = refusals_.load(std::memory_order_relaxed);
  q.last_refusal_ms = last_refusal_ms_;
  auto status = std::find_if(latest_.begin(), latest_.end(), [](const auto &entry) {
    return entry.first == "anthropic-ratelimit-unified-status";
  });
  if (refused_since_success_)
    q.state = quota_state::kind::extra_usage_required;
  else if (status != latest_.end() && iequals(trim(status->second), "rejected"))
    q.state = quota_state::kind::plan_limit_reached;
  return q;
}

bool rate_limit_number(std::string_view value, double &out) {
  value = trim(value);
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (!value.empty() && ec == std::errc() && end == value.data() + value.size())
    return std::isfinite(out);
  // RFC 3339 in UTC, as the upstream sends it: 2026-11-24T17:00:00Z (fractions ignored).
  std::tm tm{};
  std::string text(value);
  const char *rest = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest)
    return false;
  if (*rest == '.')
    while (*++rest >= '0' && *rest <= '9') {
    }
  if (std::string_view(rest) != "Z" && std::string_view(rest) != "+00:00")
    return false;
  out = static_cast<double>(::timegm(&tm));
  return true;
}

} // namespace proxy
