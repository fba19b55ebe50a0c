#include "policy/url.hpp"

#include "policy/header_policy.hpp"
#include "policy/request_check.hpp"

#include <algorithm>

namespace proxy {

std::string endpoint_url::host_header() const {
  bool default_port = (tls && port == "443") || (!tls && port == "80");
  auto name = host.find(':') != std::string::npos ? "[" + host + "]" : host; // IPv6
  return default_port ? name : name + ":" + port;
}

std::string endpoint_url::to_string() const {
  return std::string(tls ? "https://" : "http://") + host_header() + base_path;
}

result<endpoint_url> parse_url(std::string_view url) {
  endpoint_url out;
  if (url.substr(0, 8) == "https://") {
    url.remove_prefix(8);
  } else if (url.substr(0, 7) == "http://") {
    out.tls = false;
    url.remove_prefix(7);
  } else {
    return failure{"URL must start with http:// or https://"};
  }
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.base_path = std::string(url.substr(slash));
    while (!out.base_path.empty() && out.base_path.back() == '/')
      out.base_path.pop_back();
    if (out.base_path.find_first_of("?#") != std::string::npos)
      return failure{"URL must not have a query or fragment"};
    if (!out.base_path.empty() && !canonical_path(out.base_path))
      return failure{"URL path must be plain segments of letters, digits and -._~"};
  }
  if (authority.find('@') != std::string_view::npos)
    return failure{"URL must not carry user information"};
  if (!valid_host(authority))
    return failure{"URL has an invalid host or port"};
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') { // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return failure{"URL has an unterminated IPv6 address"};
    host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return failure{"URL has garbage after the IPv6 address"};
      port = rest.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty())
    return failure{"URL has no host"};
  if (!port.empty() &&
      (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
       std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535))
    return failure{"URL has an invalid port"};
  out.host = std::string(host);
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  return out;
}

} // namespace proxy
