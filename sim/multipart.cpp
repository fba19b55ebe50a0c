#include "sim/multipart.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <functional>

namespace sim {

using proxy::iequals;
using proxy::trim;

namespace {

constexpr std::string_view k_crlf = "\r\n";
// A part's headers are a few lines; bounding the search keeps a bad body from being scanned
// to its end for every part.
constexpr std::size_t k_part_header_limit = 16 * 1024;

struct header_param {
  std::string name; // lower-cased
  std::string value;
};

// `form-data; name="a;b"; filename=x` -> "form-data" and its parameters.
struct header_value {
  std::string value;
  std::vector<header_param> params;
};

// Splits at top-level semicolons: a quoted string may contain ';' and backslash escapes.
std::vector<std::string_view> split_params(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ';' && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// A quoted-string without its quotes and escapes; anything else as it is.
std::string unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"')
    return std::string(v);
  std::string out;
  for (std::size_t i = 1; i < v.size() && v[i] != '"'; ++i) {
    if (v[i] == '\\' && i + 1 < v.size())
      ++i;
    out.push_back(v[i]);
  }
  return out;
}

header_value parse_header_value(std::string_view s) {
  header_value out;
  const auto pieces = split_params(s);
  out.value = std::string(trim(pieces.front()));
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    const std::string_view piece = trim(pieces[i]);
    const auto eq = piece.find('=');
    if (piece.empty() || eq == std::string_view::npos)
      continue;
    out.params.push_back(
        {proxy::ascii_lowered(trim(piece.substr(0, eq))), unquote(trim(piece.substr(eq + 1)))});
  }
  return out;
}

const std::string *find_param(const header_value &h, std::string_view name) {
  for (const auto &p : h.params)
    if (p.name == name)
      return &p.value;
  return nullptr;
}

// Percent-decoding; `only_form_escapes` limits it to the escapes browsers and undici use in
// form-data filenames (%22 for '"', %0A and %0D), so a literal "%41" in a name survives.
std::string percent_decode(std::string_view s, bool only_form_escapes) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = proxy::hex_digit(s[i + 1]), lo = proxy::hex_digit(s[i + 2]);
      const char decoded = static_cast<char>(hi * 16 + lo);
      const bool form_escape = decoded == '"' || decoded == '\n' || decoded == '\r';
      if (hi >= 0 && lo >= 0 && (!only_form_escapes || form_escape)) {
        out.push_back(decoded);
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// filename* (RFC 5987, charset'language'pct-encoded) wins over filename when both are sent.
std::optional<std::string> part_filename(const header_value &disposition) {
  if (const std::string *ext = find_param(disposition, "filename*")) {
    const auto first = ext->find('\'');
    const auto second = first == std::string::npos ? first : ext->find('\'', first + 1);
    if (second != std::string::npos)
      return percent_decode(std::string_view(*ext).substr(second + 1), false);
  }
  if (const std::string *plain = find_param(disposition, "filename"))
    return percent_decode(*plain, true);
  return std::nullopt;
}

// Fills name/filename/content_type from a part's header block (lines without the final CRLF).
bool parse_part_headers(std::string_view block, form_part &part, std::string &error) {
  bool has_disposition = false;
  while (!block.empty()) {
    const auto eol = block.find(k_crlf);
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      error = "part header line without a colon";
      return false;
    }
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-type")) {
      part.content_type = std::string(value);
    } else if (iequals(name, "content-disposition")) {
      const header_value h = parse_header_value(value);
      const std::string *field = find_param(h, "name");
      if (!iequals(h.value, "form-data") || !field) {
        error = "part Content-Disposition must be form-data with a name";
        return false;
      }
      part.name = *field;
      part.filename = part_filename(h);
      has_disposition = true;
    }
  }
  if (!has_disposition)
    error = "part without a Content-Disposition header";
  return has_disposition;
}

} // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const header_value h = parse_header_value(content_type);
  if (!iequals(h.value, "multipart/form-data"))
    return std::nullopt;
  const std::string *boundary = find_param(h, "boundary");
  // RFC 2046: 1 to 70 characters, not ending in a space.
  if (!boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ')
    return std::nullopt;
  return *boundary;
}

std::string media_type(std::string_view content_type) {
  return proxy::ascii_lowered(trim(content_type.substr(0, content_type.find(';'))));
}

std::optional<std::vector<form_part>>
parse_multipart(std::string_view body, std::string_view boundary, std::string &error) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  // Uploads are large: search for the delimiter in sublinear time.
  const std::boyer_moore_horspool_searcher searcher(next_delimiter.begin(), next_delimiter.end());
  auto find_delimiter = [&](std::size_t from) -> std::size_t {
    const auto it =
        std::search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(), searcher);
    return it == body.end() ? std::string_view::npos : static_cast<std::size_t>(it - body.begin());
  };

  // The first delimiter opens the body or ends a preamble line.
  std::size_t pos = 0;
  if (!body.starts_with(delimiter)) {
    pos = find_delimiter(0);
    if (pos == std::string_view::npos) {
      error = "no opening boundary";
      return std::nullopt;
    }
    pos += 2;
  }

  std::vector<form_part> parts;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") { // the close delimiter; an epilogue is ignored
      if (parts.empty()) {
        error = "no parts";
        return std::nullopt;
      }
      return parts;
    }
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t'))
      ++pos; // transport padding
    if (body.substr(pos, 2) != k_crlf) {
      error = "boundary line not followed by CRLF";
      return std::nullopt;
    }
    pos += 2;

    const std::string_view window = body.substr(pos, k_part_header_limit);
    const auto headers_end = window.starts_with(k_crlf) ? 0 : window.find("\r\n\r\n");
    if (headers_end == std::string_view::npos) {
      error = "part headers do not end";
      return std::nullopt;
    }
    form_part part;
    if (!parse_part_headers(window.substr(0, headers_end), part, error))
      return std::nullopt;
    part.offset = pos + headers_end + (headers_end == 0 ? 2 : 4);

    const std::size_t end = find_delimiter(part.offset);
    if (end == std::string_view::npos) {
      error = "no closing boundary";
      return std::nullopt;
    }
    part.size = end - part.offset;
    parts.push_back(std::move(part));
    pos = end + 2;
  }
}

} // namespace sim
