#include "policy/header_policy.hpp"

#include "core/text.hpp"

#include <boost/beast/http/status.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

namespace proxy {
namespace {

/// The header names a message's Connection header lists (hop-by-hop too), lower-cased and
/// sorted once, so each header is then checked in logarithmic time.
class connection_tokens {
public:
  explicit connection_tokens(const http::fields &fields) {
    auto [first, last] = fields.equal_range(http::field::connection);
    for (auto it = first; it != last; ++it)
      for_each_token(it->value(), [&](std::string_view t) { names_.push_back(ascii_lowered(t)); });
    std::sort(names_.begin(), names_.end());
  }
  bool contains(std::string_view name) const {
    if (names_.empty())
      return false;
    // Compares as if `name` were lower-cased, without making a lower-cased copy.
    auto less = [](std::string_view a, std::string_view b) {
      return std::lexicographical_compare(
          a.begin(), a.end(), b.begin(), b.end(),
          [](char x, char y) { return ascii_lower(x) < ascii_lower(y); });
    };
    return std::binary_search(names_.begin(), names_.end(), name, less);
  }

private:
  std::vector<std::string> names_;
};

/// Hop-by-hop by RFC 9110 7.6.1. Beast names every header it knows when it parses one, so the
/// check is a comparison of numbers.
bool hop_by_hop(http::field f) {
  switch (f) {
  case http::field::connection:
  case http::field::keep_alive:
  case http::field::proxy_connection:
  case http::field::proxy_authenticate:
  case http::field::proxy_authorization:
  case http::field::te:
  case http::field::trailer:
  case http::field::transfer_encoding:
  case http::field::upgrade:
    return true;
  default:
    return false;
  }
}

/// Request headers that never go upstream as the client sent them. Expect: the proxy answered
/// 100-continue itself and sends the whole body at once.
bool dropped_on_request(http::field f) {
  switch (f) {
  case http::field::host:
  case http::field::content_length:
  case http::field::authorization:
  case http::field::cookie:
  case http::field::accept_encoding:
  case http::field::expect:
    return true;
  default:
    return false;
  }
}

void append_number(std::string &out, std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

} // namespace

bool is_rate_limit_header(std::string_view name) {
  constexpr std::string_view prefix = "anthropic-ratelimit-";
  return name.size() > prefix.size() && iequals(name.substr(0, prefix.size()), prefix);
}

bool is_hop_by_hop(std::string_view name) {
  return hop_by_hop(http::string_to_field(name));
}

std::string merge_betas(const http::fields &client, std::string_view extra) {
  std::vector<std::string_view> betas;
  auto add = [&](std::string_view t) {
    if (std::find(betas.begin(), betas.end(), t) == betas.end())
      betas.push_back(t);
  };
  auto [first, last] = client.equal_range("anthropic-beta");
  for (auto it = first; it != last; ++it)
    for_each_token(it->value(), add);
  if (!extra.empty())
    add(extra);
  std::string out;
  for (auto b : betas) {
    if (!out.empty())
      out += ',';
    out += b;
  }
  return out;
}

void append_field(std::string &out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

std::string upstream_request_head(http::verb method, std::string_view target, std::string_view host,
                                  const http::fields &client, const upstream_auth &auth,
                                  std::optional<std::uint64_t> content_length, bool chunked) {
  std::string out;
  out.reserve(1024);
  out.append(http::to_string(method));
  out.append(" ");
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  append_field(out, "Host", host);
  connection_tokens hop(client);
  bool has_version = false;
  for (const auto &h : client) {
    auto f = h.name();
    if (hop_by_hop(f) || dropped_on_request(f))
      continue;
    auto name = h.name_string();
    if (f == http::field::unknown) {
      // Ours to set: the credential, and the beta list merged below.
      if (iequals(name, "x-api-key") || iequals(name, "anthropic-beta"))
        continue;
      has_version = has_version || iequals(name, "anthropic-version");
    }
    if (hop.contains(name))
      continue;
    append_field(out, name, h.value());
  }
  if (!has_version)
    append_field(out, "anthropic-version", default_anthropic_version);
  auto betas = merge_betas(client, auth.oauth ? oauth_beta : std::string_view{});
  if (!betas.empty())
    append_field(out, "anthropic-beta", betas);
  if (auth.kind == upstream_auth::scheme::api_key) {
    append_field(out, "x-api-key", auth.secret);
  } else {
    out.append("Authorization: Bearer ");
    out.append(auth.secret);
    out.append("\r\n");
  }
  if (chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (content_length) {
    out.append("Content-Length: ");
    append_number(out, *content_length);
    out.append("\r\n");
  }
  out.append("\r\n");
  return out;
}

std::string client_origin(const http::fields &client) {
  auto scheme = iequals(client["x-forwarded-proto"], "https") ? "https://" : "http://";
  return scheme + std::string(client[http::field::host]);
}

void append_status_line(std::string &out, unsigned version, unsigned status,
                        std::string_view reason) {
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, status);
  out.append(" ");
  if (reason.empty())
    reason = status == 529
                 ? std::string_view("Overloaded")
                 : std::string_view(http::obsolete_reason(static_cast<http::status>(status)));
  out.append(reason);
  out.append("\r\n");
}

void append_response_headers(std::string &out, const http::fields &upstream) {
  connection_tokens hop(upstream);
  for (const auto &h : upstream) {
    auto f = h.name();
    if (hop_by_hop(f) || f == http::field::content_length || f == http::field::set_cookie)
      continue;
    auto name = h.name_string();
    if (hop.contains(name))
      continue;
    append_field(out, name, h.value());
  }
}

void end_response_head(std::string &out, unsigned version, body_framing framing,
                       std::uint64_t length, bool keep_alive) {
  switch (framing) {
  case body_framing::length:
    out.append("Content-Length: ");
    append_number(out, length);
    out.append("\r\n");
    break;
  case body_framing::chunked:
    out.append("Transfer-Encoding: chunked\r\n");
    break;
  case body_framing::none:
  case body_framing::close:
    break;
  }
  if (!keep_alive && version >= 11)
    out.append("Connection: close\r\n");
  else if (keep_alive && version == 10)
    out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
}

bool secure_equals(std::string_view a, std::string_view b) {
  // Compare a fixed-length prefix even on length mismatch so timing says little about the key.
  bool same_size = a.size() == b.size();
  std::string_view probe = same_size ? a : b;
  return CRYPTO_memcmp(probe.data(), b.data(), b.size()) == 0 && same_size;
}

bool client_key_matches(const http::fields &client, std::string_view key) {
  // Every credential the client presents must be the key: two that disagree are ambiguous
  // (a front proxy may check one while we would check the other).
  bool presented = false, all_match = true;
  auto [first_key, last_key] = client.equal_range("x-api-key");
  for (auto it = first_key; it != last_key; ++it) {
    presented = true;
    all_match = secure_equals(it->value(), key) && all_match;
  }
  auto [first_auth, last_auth] = client.equal_range(http::field::authorization);
  for (auto it = first_auth; it != last_auth; ++it) {
    presented = true;
    auto value = it->value();
    constexpr std::string_view bearer = "Bearer ";
    bool is_bearer =
        value.size() > bearer.size() && iequals(value.substr(0, bearer.size()), bearer);
    all_match = is_bearer && secure_equals(trim(value.substr(bearer.size())), key) && all_match;
  }
  return presented && all_match;
}

bool valid_host(std::string_view host) {
  if (host.empty())
    return false;
  std::string_view name = host;
  if (host.front() == '[') { // IP-literal
    auto close = host.find(']');
    if (close == std::string_view::npos || close == 1)
      return false;
    for (char c : host.substr(1, close - 1))
      if (hex_digit(c) < 0 && c != ':' && c != '.')
        return false;
    name = {};
    host.remove_prefix(close + 1);
    if (!host.empty() && host.front() != ':')
      return false;
  } else {
    auto colon = host.find(':');
    name = host.substr(0, colon);
    host.remove_prefix(colon == std::string_view::npos ? host.size() : colon);
    if (name.empty())
      return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
      bool sub_delim = std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
      if (c == '%') {
        if (i + 2 >= name.size() || hex_digit(name[i + 1]) < 0 || hex_digit(name[i + 2]) < 0)
          return false;
        i += 2;
      } else if (!unreserved && !sub_delim) {
        return false;
      }
    }
  }
  if (host.empty())
    return true;
  auto port = host.substr(1); // after ':'; an empty port is allowed (RFC 3986)
  return port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<api_error> host_error(const http::fields &request, unsigned version) {
  auto [first, last] = request.equal_range(http::field::host);
  auto count = std::distance(first, last);
  if (count > 1)
    return make_api_error(400, "The request has more than one Host header");
  if (count == 0)
    return version >= 11 ? std::optional(make_api_error(400, "The request has no Host header"))
                         : std::nullopt;
  if (!valid_host(first->value()))
    return make_api_error(400, "The request's Host header is not a valid host");
  return std::nullopt;
}

} // namespace proxy
