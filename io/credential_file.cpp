#include "io/credential_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace proxy {
namespace {

failure os_failure(const std::string &what, const std::string &path) {
  return failure{what + " " + path + ": " + std::strerror(errno)};
}

} // namespace

result<std::string> read_text_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return os_failure("cannot read", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

result<done> write_file_durably(const std::string &path, const std::string &content) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return os_failure("cannot create", temp);
  std::size_t written = 0;
  while (written < content.size()) {
    auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      auto f = os_failure("cannot write", temp);
      ::close(fd);
      ::unlink(temp.c_str());
      return f;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
    auto f = os_failure("cannot sync", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return f;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto f = os_failure("cannot replace", path);
    ::unlink(temp.c_str());
    return f;
  }
  // The rename is durable only once the folder's entry is on disk too.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return done{};
}

result<file_lock> file_lock::acquire(const std::string &path, std::chrono::milliseconds timeout) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return os_failure("cannot open the lock file", path);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
      return file_lock(fd);
    if (errno != EWOULDBLOCK && errno != EINTR) {
      auto f = os_failure("cannot lock", path);
      ::close(fd);
      return f;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return failure{"another process held the lock on " + path + " for over " +
                     std::to_string(timeout.count() / 1000) + " s"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

file_lock &file_lock::operator=(file_lock &&other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

file_lock::~file_lock() {
  if (fd_ >= 0)
    ::close(fd_); // closing the last descriptor releases the flock
}

} // namespace proxy
