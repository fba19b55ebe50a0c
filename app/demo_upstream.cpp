#include "app/demo_upstream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <vector>

extern char **environ;

namespace proxy {
namespace {

/// `upstream-sim` in this binary's folder, else the bare name for a PATH lookup.
std::string simulator_path() {
  char self[PATH_MAX];
  auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    std::string candidate = dir + "/upstream-sim";
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "upstream-sim";
}

} // namespace

result<std::unique_ptr<demo_upstream>> demo_upstream::start(const std::string &api_key) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0)
    return failure{"demo mode: cannot create a pipe"};
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return failure{"demo mode: cannot create a pipe"};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::string bin = simulator_path();
  std::vector<std::string> args = {bin,     "--port",           "0",  "--api-key",
                                   api_key, "--event-delay-ms", "30", "--exit-on-stdin-eof"};
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto sim = std::unique_ptr<demo_upstream>(new demo_upstream);
  int rc = ::posix_spawnp(&sim->pid_, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  sim->stdin_fd_ = in[1];
  sim->stdout_fd_ = out[0];
  if (rc != 0) {
    sim->pid_ = -1;
    return failure{"demo mode needs the upstream-sim binary next to claude-proxy or on PATH (" +
                   bin + " could not be started)"};
  }

  // It prints "upstream-sim listening on <url>" once bound.
  constexpr std::string_view prefix = "upstream-sim listening on ";
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{sim->stdout_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0)
      continue;
    char buf[256];
    auto n = ::read(sim->stdout_fd_, buf, sizeof buf);
    if (n <= 0)
      break;
    seen.append(buf, static_cast<std::size_t>(n));
    if (auto at = seen.find(prefix); at != std::string::npos) {
      auto eol = seen.find('\n', at);
      if (eol == std::string::npos)
        continue;
      sim->url_ = seen.substr(at + prefix.size(), eol - at - prefix.size());
      return sim;
    }
  }
  return failure{"demo mode: the bundled simulator (" + bin + ") did not start"};
}

demo_upstream::~demo_upstream() {
  if (stdin_fd_ >= 0)
    ::close(stdin_fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0)
    ::close(stdout_fd_);
}

} // namespace proxy
