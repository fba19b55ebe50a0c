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

} // namespace proxy
