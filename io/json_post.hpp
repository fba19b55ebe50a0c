#pragma once
// One JSON POST on a fresh connection, for the proxy's own calls (token refresh, credential
// sync): small bodies, whole answers, errors as values.
#include "io/net.hpp"
#include "io/upstream_connection.hpp"

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

task<json_post_reply> post_json(net::any_io_executor executor,
                                std::shared_ptr<const upstream_target> target, std::string body,
                                std::chrono::milliseconds connect_timeout,
                                std::chrono::seconds timeout);

} // namespace proxy
