#pragma once
// Reading and durably writing the credentials file. Blocking: call it only from a thread that
// serves no requests (the store actor).
#include "core/result.hpp"

#include <string>

namespace proxy {

result<std::string> read_text_file(const std::string &path);

/// Writes `content` so that a crash at any moment leaves either the old or the new file: a temp
/// file in the same folder, fsync, rename over the target, fsync of the folder. Mode 0600.
result<done> write_file_durably(const std::string &path, const std::string &content);

} // namespace proxy
