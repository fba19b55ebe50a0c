#pragma once
// What a client request is and whether it is well formed: pure functions, no sockets.
#include "policy/api_error.hpp"

#include <boost/beast/http/verb.hpp>
#include <ostream> // boost/core/detail/string_view.hpp needs it

#include <string>
#include <string_view>
#include <variant>

namespace proxy {

enum class route {
  health,
  messages,
  count_tokens,
  models,            ///< GET /v1/models and /v1/models/{id}: relayed as they are
  admin_credentials, ///< POST /admin/credentials: fresh OAuth credentials pushed in
  not_found,
  method_not_allowed,
};

/// Where a request goes, from its method and target (a query string is ignored).
route classify(boost::beast::http::verb method, std::string_view target);

/// What the proxy reads from a Messages body; the body itself is relayed byte for byte.
struct message_facts {
  std::string model;
  bool stream = false;
};

/// Checks a Messages or count_tokens body: JSON content type, a JSON object, a non-empty string
/// `model`, an array `messages`. Everything else is the upstream's to judge.
std::variant<message_facts, api_error> check_message_body(std::string_view content_type,
                                                          std::string_view body);

} // namespace proxy
