#pragma once
// How many streams this machine lets the proxy hold: each needs a client socket and an upstream
// socket, so the file descriptor limit decides it. No default lower than that.
#include <cstddef>
#include <cstdint>

namespace proxy {

/// Descriptors kept back for listeners, the event loop, logs, files and the token endpoint.
inline constexpr std::uint64_t reserved_descriptors = 64;

/// Streams that fit in `fd_limit` descriptors.
std::size_t streams_for(std::uint64_t fd_limit);

struct fd_limits {
  std::uint64_t soft_before = 0; ///< the soft limit the process started with
  std::uint64_t soft = 0;        ///< the soft limit now
  std::uint64_t hard = 0;
};

/// Raises the soft RLIMIT_NOFILE to the hard limit (or to the kernel's per-process maximum when
/// the hard limit is unlimited).
fd_limits raise_fd_limit();

} // namespace proxy
