#include "app/capacity.hpp"

#include <sys/resource.h>

#include <fstream>

namespace proxy {

std::size_t streams_for(std::uint64_t fd_limit) {
  if (fd_limit <= reserved_descriptors + 2)
    return 1;
  return static_cast<std::size_t>((fd_limit - reserved_descriptors) / 2);
}

fd_limits raise_fd_limit() {
  fd_limits out;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return out;
  out.soft_before = out.soft = rl.rlim_cur;
  out.hard = rl.rlim_max;
  rlim_t target = rl.rlim_max;
  if (target == RLIM_INFINITY) {
    // The kernel refuses an unlimited soft limit for descriptors: nr_open is the real ceiling.
    std::uint64_t nr_open = 1u << 20;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    target = nr_open;
    out.hard = nr_open;
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= target)
    return out;
  rl.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
    out.soft = target;
  return out;
}

} // namespace proxy
