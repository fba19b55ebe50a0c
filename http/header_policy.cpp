#include "http/header_policy.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace proxy {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

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

/// Headers listed in the client's Connection header are hop-by-hop too.
bool named_by_connection(const http::fields &client, std::string_view name) {
  bool found = false;
  auto [first, last] = client.equal_range(http::field::connection);
  for (auto it = first; it != last; ++it)
    for_each_token(it->value(), [&](std::string_view t) { found = found || iequals(t, name); });
  return found;
}

bool dropped_on_request(std::string_view name) {
  // expect: the proxy answered 100-continue itself and sends the whole body at once.
  static constexpr std::array<std::string_view, 8> names = {
      "host",   "content-length",  "authorization", "x-api-key",
      "cookie", "accept-encoding", "expect",        "anthropic-beta" /* merged below */};
  return std::any_of(names.begin(), names.end(), [&](auto n) { return iequals(n, name); });
}

} // namespace

bool is_hop_by_hop(std::string_view name) {
  static constexpr std::array<std::string_view, 9> names = {"connection",
                                                            "keep-alive",
                                                            "proxy-connection",
                                                            "proxy-authenticate",
                                                            "proxy-authorization",
                                                            "te",
                                                            "trailer",
                                                            "transfer-encoding",
                                                            "upgrade"};
  return std::any_of(names.begin(), names.end(), [&](auto n) { return iequals(n, name); });
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

http::fields upstream_request_headers(const http::fields &client, const upstream_auth &auth) {
  http::fields out;
  for (const auto &h : client) {
    auto name = h.name_string();
    if (is_hop_by_hop(name) || dropped_on_request(name) || named_by_connection(client, name))
      continue;
    out.insert(name, h.value());
  }
  if (out.find("anthropic-version") == out.end())
    out.set("anthropic-version", default_anthropic_version);
  auto betas = merge_betas(client, auth.oauth ? oauth_beta : std::string_view{});
  if (!betas.empty())
    out.set("anthropic-beta", betas);
  if (auth.kind == upstream_auth::scheme::api_key)
    out.set("x-api-key", auth.secret);
  else
    out.set(http::field::authorization, "Bearer " + auth.secret);
  return out;
}

void copy_response_headers(const http::fields &upstream, http::fields &out) {
  for (const auto &h : upstream) {
    auto name = h.name_string();
    if (is_hop_by_hop(name) || iequals(name, "content-length") || iequals(name, "set-cookie") ||
        named_by_connection(upstream, name))
      continue;
    out.insert(name, h.value());
  }
}

bool secure_equals(std::string_view a, std::string_view b) {
  // Compare a fixed-length prefix even on length mismatch so timing says little about the key.
  bool same_size = a.size() == b.size();
  std::string_view probe = same_size ? a : b;
  return CRYPTO_memcmp(probe.data(), b.data(), b.size()) == 0 && same_size;
}

bool client_key_matches(const http::fields &client, std::string_view key) {
  if (auto it = client.find("x-api-key"); it != client.end() && secure_equals(it->value(), key))
    return true;
  if (auto it = client.find(http::field::authorization); it != client.end()) {
    auto value = it->value();
    constexpr std::string_view bearer = "Bearer ";
    if (value.size() > bearer.size() && iequals(value.substr(0, bearer.size()), bearer))
      return secure_equals(trim(value.substr(bearer.size())), key);
  }
  return false;
}

} // namespace proxy
