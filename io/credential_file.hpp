#pragma once
// Reading and durably writing the credentials file. Blocking: call it only from a thread that
// serves no requests (the store actor).
#include "core/result.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace proxy {

result<std::string> read_text_file(const std::string &path);

/// Writes `content` so that a crash at any moment leaves either the old or the new file: a temp
/// file in the same folder, fsync, rename over the target, fsync of the folder. Mode 0600.
result<done> write_file_durably(const std::string &path, const std::string &content);

/// An exclusive advisory lock (flock) on `path`, held across processes while this lives. Two
/// proxies sharing a credentials file take it from the re-read before a refresh until the new
/// pair is written, so they never spend the same refresh token. The kernel drops it when the
/// process dies, so a crash never leaves it held.
class file_lock {
public:
  /// Waits up to `timeout` for the lock (the file is created, mode 0600, if missing).
  static result<file_lock> acquire(const std::string &path, std::chrono::milliseconds timeout);
  file_lock(file_lock &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  file_lock &operator=(file_lock &&other) noexcept;
  ~file_lock();

private:
  explicit file_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// The lock file of a credentials file: beside it, named after it.
inline std::string lock_path_for(const std::string &credentials_path) {
  return credentials_path + ".lock";
}

} // namespace proxy
