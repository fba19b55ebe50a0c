#pragma once
// Reads an HTTP/1.1 response body out of the bytes that follow its head, whatever the framing:
// Content-Length, chunked, or until the connection closes. Chunked framing is removed in place
// (the data moves to the front of the caller's buffer), so the relay needs no second buffer.
// Pure: input may be split anywhere.
#include <cstddef>
#include <cstdint>

namespace proxy {

class body_decoder {
public:
  enum class framing { none, length, chunked, until_close };

  /// A body of `length` bytes (framing::length), or of the given framing.
  explicit body_decoder(framing f = framing::none, std::uint64_t length = 0);

  struct step {
    std::size_t data = 0;     ///< body bytes now at the front of the buffer
    std::size_t consumed = 0; ///< input bytes used; the rest must be offered again with more input
  };

  /// Decodes `buf[0, n)`. What is left unconsumed is at most one incomplete chunk-size or
  /// trailer line (bounded: a longer one fails), or input past the end of the body.
  step decode(char *buf, std::size_t n);

  /// The whole body was read.
  bool done() const { return state_ == state::done; }
  /// The framing was malformed (or a chunk-size line too long); nothing more can be read.
  bool failed() const { return state_ == state::failed; }
  /// The connection's end is the body's end.
  bool until_close() const { return framing_ == framing::until_close; }

  /// The longest chunk-size or trailer line accepted.
  static constexpr std::size_t max_line = 4096;

private:
  enum class state { size_line, data, data_end, trailer, done, failed };
  framing framing_;
  state state_;
  std::uint64_t remaining_ = 0;
};

} // namespace proxy
