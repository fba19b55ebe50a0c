#include "policy/body_decoder.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace proxy {
namespace {

/// chunk-size [ BWS ";" chunk-ext ]: the size, or -1 when malformed or absurdly large.
std::int64_t parse_chunk_size(std::string_view line) {
  std::int64_t size = 0;
  std::size_t i = 0;
  for (; i < line.size() && hex_digit(line[i]) >= 0; ++i) {
    if (size > (std::int64_t{1} << 48))
      return -1;
    size = size * 16 + hex_digit(line[i]);
  }
  if (i == 0)
    return -1;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
    ++i;
  if (i < line.size() && line[i] != ';')
    return -1;
  return size;
}

} // namespace

body_decoder::body_decoder(framing f, std::uint64_t length)
    : framing_(f), state_(state::data), remaining_(length) {
  if (f == framing::none || (f == framing::length && length == 0))
    state_ = state::done;
  else if (f == framing::chunked)
    state_ = state::size_line;
}

body_decoder::step body_decoder::decode(char *buf, std::size_t n) {
  if (framing_ == framing::until_close)
    return {n, n};
  if (framing_ != framing::chunked) {
    if (state_ != state::data)
      return {};
    auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n));
    remaining_ -= take;
    if (remaining_ == 0)
      state_ = state::done;
    return {take, take};
  }

  std::size_t r = 0, w = 0;
  // A line ending at the first '\n' from `r`, without its CR; false when it is not all here.
  auto next_line = [&](std::string_view &line) {
    auto *eol = static_cast<char *>(std::memchr(buf + r, '\n', n - r));
    if (!eol) {
      if (n - r > max_line)
        state_ = state::failed;
      return false;
    }
    line = std::string_view(buf + r, static_cast<std::size_t>(eol - (buf + r)));
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.size() > max_line) {
      state_ = state::failed;
      return false;
    }
    r = static_cast<std::size_t>(eol - buf) + 1;
    return true;
  };

  for (;;) {
    switch (state_) {
    case state::size_line: {
      std::string_view line;
      if (!next_line(line))
        return {w, r};
      auto size = parse_chunk_size(line);
      if (size < 0) {
        state_ = state::failed;
        return {w, r};
      }
      remaining_ = static_cast<std::uint64_t>(size);
      state_ = size == 0 ? state::trailer : state::data;
      break;
    }
    case state::data: {
      auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - r));
      if (w != r)
        std::memmove(buf + w, buf + r, take);
      w += take;
      r += take;
      remaining_ -= take;
      if (remaining_ > 0)
        return {w, r};
      state_ = state::data_end;
      break;
    }
    case state::data_end:
      // CRLF after the data (a bare LF is tolerated); it may arrive split.
      if (r < n && buf[r] == '\n') {
        ++r;
      } else if (r + 1 < n && buf[r] == '\r' && buf[r + 1] == '\n') {
        r += 2;
      } else if (r == n || (r + 1 == n && buf[r] == '\r')) {
        return {w, r};
      } else {
        state_ = state::failed;
        return {w, r};
      }
      state_ = state::size_line;
      break;
    case state::trailer: {
      // Trailer fields are read and dropped: they never become headers (RFC 9110 6.5.1).
      std::string_view line;
      if (!next_line(line))
        return {w, r};
      if (line.empty())
        state_ = state::done;
      break;
    }
    case state::done:
    case state::failed:
      return {w, r};
    }
  }
}

} // namespace proxy
