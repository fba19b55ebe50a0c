#include "core/redact.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace proxy {
namespace {

constexpr std::size_t max_secrets = 64;
constexpr std::string_view replacement = "[redacted]";

/// Written rarely (at start, on each credential change), read for every line written: readers
/// keep a per-thread copy and take the lock only after a change.
struct secret_registry {
  std::mutex mutex;
  std::deque<std::string> secrets;
  std::atomic<std::uint64_t> version{0};
};

secret_registry &registry() {
  static secret_registry r;
  return r;
}

const std::vector<std::string> &current_secrets() {
  thread_local std::uint64_t seen = 0;
  thread_local std::vector<std::string> copy;
  auto &r = registry();
  auto v = r.version.load(std::memory_order_acquire);
  if (v != seen) {
    std::lock_guard<std::mutex> lock(r.mutex);
    copy.assign(r.secrets.begin(), r.secrets.end());
    // Longest first: a secret that contains another is replaced whole.
    std::sort(copy.begin(), copy.end(),
              [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
    seen = r.version.load(std::memory_order_relaxed);
  }
  return copy;
}

} // namespace

void add_secret(std::string_view secret) {
  if (secret.size() < min_secret_length)
    return;
  auto &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (std::find(r.secrets.begin(), r.secrets.end(), secret) != r.secrets.end())
    return;
  r.secrets.emplace_back(secret);
  if (r.secrets.size() > max_secrets)
    r.secrets.pop_front();
  r.version.fetch_add(1, std::memory_order_release);
}

bool contains_secret(std::string_view text) {
  for (const auto &secret : current_secrets())
    if (text.find(secret) != std::string_view::npos)
      return true;
  return false;
}

bool redact_in_place(std::string &text) {
  bool replaced = false;
  for (const auto &secret : current_secrets()) {
    for (auto at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + replacement.size())) {
      text.replace(at, secret.size(), replacement);
      replaced = true;
    }
  }
  return replaced;
}

std::string redact(std::string_view text) {
  std::string out(text);
  redact_in_place(out);
  return out;
}

} // namespace proxy
