#pragma once
// multipart/form-data (RFC 7578) as SDKs, curl and browsers send it: just enough to take an
// upload apart. Parts are located, not copied, so a 500 MiB upload is not held twice.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

struct form_part {
  std::string name;                    // the Content-Disposition name ("file", "files[]")
  std::optional<std::string> filename; // set for file parts (may be empty)
  std::string content_type;            // the part's Content-Type as sent, "" when absent
  std::size_t offset = 0;              // where the part's bytes start in the body
  std::size_t size = 0;                // how many bytes it has
  std::string_view bytes(std::string_view body) const { return body.substr(offset, size); }
};

// The boundary of a "multipart/form-data; boundary=..." Content-Type (quoted or not);
// nullopt for another media type or a missing or invalid (over 70 characters) boundary.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Splits a multipart body into its parts. Returns nullopt and sets `error` when the body is not
// well-formed: no opening or closing delimiter, a part without headers' end, a part that is not
// form-data with a name.
std::optional<std::vector<form_part>>
parse_multipart(std::string_view body, std::string_view boundary, std::string &error);

// The media type of a Content-Type value, lower-cased and without parameters
// ("Text/Plain; charset=utf-8" -> "text/plain"); "" when absent.
std::string media_type(std::string_view content_type);

} // namespace sim
