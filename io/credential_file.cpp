#include "io/credential_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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

} // namespace proxy
