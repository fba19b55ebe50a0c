#pragma once
// Upstream and token endpoint addresses: `http[s]://host[:port][/base]`.
#include "core/result.hpp"

#include <string>
#include <string_view>

namespace proxy {

struct endpoint_url {
  bool tls = true;
  std::string host;
  std::string port;      ///< always set: the default for the scheme when the URL had none
  std::string base_path; ///< no trailing slash; "" for the root

  /// The request target for `path` (which starts with '/') under the base path.
  std::string target(std::string_view path) const { return base_path + std::string(path); }
  /// The Host header value.
  std::string host_header() const;
  std::string to_string() const;
};

result<endpoint_url> parse_url(std::string_view url);

} // namespace proxy
