#pragma once
// Wall-clock time in the unit the credential formats use.
#include <chrono>
#include <cstdint>

namespace proxy {

/// Milliseconds since the Unix epoch.
inline std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace proxy
