#pragma once
// JSON text the proxy writes itself (errors, log lines, /health), always through RapidJSON's
// writer so that every string is escaped correctly, and always valid UTF-8: bytes that are not
// (a client's path, an upstream's message) are replaced, so strict parsers accept the document.
#include "core/redact.hpp"
#include "core/text.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace proxy {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Runs `fill` on a fresh writer and returns the JSON text it wrote.
template <class F> std::string write_json(F &&fill) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  fill(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

/// write_json for documents the proxy shows (error bodies and events, /health, admin answers):
/// any known secret in them, echoed by an upstream or a token endpoint, is redacted.
template <class F> std::string write_public_json(F &&fill) {
  auto text = write_json(std::forward<F>(fill));
  redact_in_place(text);
  return text;
}

inline void json_key(json_writer &w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

inline void json_string(json_writer &w, std::string_view value) {
  if (!valid_utf8(value)) {
    auto clean = utf8_prefix(value, value.size() * 3);
    w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
    return;
  }
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

/// `"key":"value"`
inline void json_field(json_writer &w, std::string_view key, std::string_view value) {
  json_key(w, key);
  json_string(w, value);
}

inline void json_field(json_writer &w, std::string_view key, const char *value) {
  json_field(w, key, std::string_view(value));
}

inline void json_field(json_writer &w, std::string_view key, std::int64_t value) {
  json_key(w, key);
  w.Int64(value);
}

inline void json_field(json_writer &w, std::string_view key, std::uint64_t value) {
  json_key(w, key);
  w.Uint64(value);
}

inline void json_field(json_writer &w, std::string_view key, int value) {
  json_field(w, key, static_cast<std::int64_t>(value));
}

inline void json_field(json_writer &w, std::string_view key, bool value) {
  json_key(w, key);
  w.Bool(value);
}

} // namespace proxy
