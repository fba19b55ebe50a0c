#pragma once
// One JSON POST on a fresh connection, for the proxy's own calls (token refresh, credential
// sync): small bodies, whole answers, errors as values.
#include "http/net.hpp"
#include "http/url.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace proxy {

struct json_post_reply {
  std::optional<std::string> error; ///< set when no answer came (unreachable, timeout, ...)
  unsigned status = 0;
  std::string body;
  std::string retry_after;
};

task<json_post_reply> post_json(net::any_io_executor executor, const endpoint_url &url,
                                std::shared_ptr<ssl::context> tls, std::string body,
                                std::chrono::milliseconds connect_timeout,
                                std::chrono::seconds timeout);

} // namespace proxy
