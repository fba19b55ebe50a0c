#pragma once
// ASCII text helpers for HTTP: case-insensitive names and comma-separated lists. ASCII only:
// header names are tokens, and locale-aware tolower is slow.
#include <algorithm>
#include <string>
#include <string_view>

namespace proxy {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lowered(std::string_view s) {
  std::string out(s);
  for (auto &c : out)
    c = ascii_lower(c);
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

/// The value of a hex digit, or -1.
constexpr int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = ascii_lower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/// Without the optional whitespace (spaces and tabs) HTTP allows at both ends.
constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Calls f(token) for each comma-separated, trimmed, non-empty token of `list`.
template <class F> void for_each_token(std::string_view list, F &&f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto token = trim(list.substr(0, comma));
    if (!token.empty())
      f(token);
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
}

/// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it starts with an
/// invalid one (overlong forms, surrogates and code points past U+10FFFF are invalid).
constexpr std::size_t utf8_sequence(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  if (s.empty())
    return 0;
  unsigned char b0 = byte(0);
  if (b0 < 0x80)
    return 1;
  std::size_t n = b0 >= 0xc2 && b0 <= 0xdf   ? 2
                  : b0 >= 0xe0 && b0 <= 0xef ? 3
                  : b0 >= 0xf0 && b0 <= 0xf4 ? 4
                                             : 0;
  if (n == 0 || s.size() < n)
    return 0;
  for (std::size_t i = 1; i < n; ++i)
    if ((byte(i) & 0xc0) != 0x80)
      return 0;
  unsigned char b1 = byte(1);
  if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 > 0x9f) || (b0 == 0xf0 && b1 < 0x90) ||
      (b0 == 0xf4 && b1 > 0x8f))
    return 0;
  return n;
}

constexpr bool valid_utf8(std::string_view s) {
  while (!s.empty()) {
    if (static_cast<unsigned char>(s.front()) < 0x80) { // the usual case
      s.remove_prefix(1);
      continue;
    }
    auto n = utf8_sequence(s);
    if (n == 0)
      return false;
    s.remove_prefix(n);
  }
  return true;
}

/// At most `max_bytes` of `s` as valid UTF-8, for echoing untrusted bytes in a message: invalid
/// bytes become U+FFFD, and the cut never splits a character.
inline std::string utf8_prefix(std::string_view s, std::size_t max_bytes) {
  static constexpr std::string_view replacement = "\xef\xbf\xbd";
  std::string out;
  while (!s.empty()) {
    auto n = utf8_sequence(s);
    auto piece = n ? s.substr(0, n) : replacement;
    if (out.size() + piece.size() > max_bytes)
      break;
    out.append(piece);
    s.remove_prefix(n ? n : 1);
  }
  return out;
}

} // namespace proxy
