#pragma once
// Demo mode's upstream: the bundled simulator, run as the sibling `upstream-sim` binary in a
// child process (test code never links into the proxy). The child exits when the proxy does,
// even on SIGKILL: it watches its standard input, whose other end only the proxy holds.
#include "core/result.hpp"

#include <sys/types.h>

#include <memory>
#include <string>

namespace proxy {

class demo_upstream {
public:
  /// Starts `upstream-sim` (found next to this binary, else on PATH) on a free loopback port,
  /// accepting only `api_key`, and waits (bounded) until it listens.
  static result<std::unique_ptr<demo_upstream>> start(const std::string &api_key);
  ~demo_upstream();
  demo_upstream(const demo_upstream &) = delete;
  demo_upstream &operator=(const demo_upstream &) = delete;

  const std::string &base_url() const { return url_; }

private:
  demo_upstream() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;  ///< closing it tells the child to exit
  int stdout_fd_ = -1; ///< kept open: the child must not die of a broken pipe
  std::string url_;
};

} // namespace proxy
