#pragma once
// What a client request is and whether it is well formed: pure functions, no sockets.
#include "policy/api_error.hpp"

#include <boost/beast/http/verb.hpp>
#include <ostream> // boost/core/detail/string_view.hpp needs it

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace proxy {

enum class route {
  root, ///< GET /: a one-line answer, for probes (the Containers library pings "/" at start)
  health,
  metrics, ///< GET /metrics: the Prometheus text format
  messages,
  count_tokens,
  models,            ///< GET /v1/models and /v1/models/{id}: relayed as they are
  chat_completions,  ///< POST /v1/chat/completions: the upstream's OpenAI-compatible endpoint
  batches,           ///< /v1/messages/batches: Message Batches (results_url rewritten)
  files,             ///< /v1/files: the Files API (uploads of up to 500 MiB)
  skills,            ///< /v1/skills: Agent Skills (beta)
  agents,            ///< the agent families (beta): agents, sessions, environments, ...
  admin_credentials, ///< POST /admin/credentials: fresh OAuth credentials pushed in
  not_found,
  method_not_allowed,
};

/// Where a request goes, from its method and target (a query string is ignored), by the table of
/// API families in request_check.cpp: only the endpoints listed there go upstream. Only a
/// canonical path names a route: no dot segments, empty segments, percent-encoding or other
/// characters outside [A-Za-z0-9-._~] (see canonical_path), so a path that an upstream might
/// resolve differently never goes upstream. Without an admin key the admin route does not
/// exist: not_found whatever the method.
route classify(boost::beast::http::verb method, std::string_view target, bool admin_enabled);

/// The 404 message for a path no route serves. For the usual base-URL mistakes (a path that
/// lacks /v1, or has it twice) it says which base URL to use, for both kinds of client: those
/// that add /v1 themselves and those that need it in the base URL. `origin` is how the client
/// reached the proxy ("http://host:port").
std::string not_found_message(std::string_view target, std::string_view origin);

/// A short name for logs and metric labels: messages, count_tokens, models, health, ...
const char *route_name(route r);

/// "/" followed by non-empty segments of unreserved characters, none of them "." or "..".
bool canonical_path(std::string_view path);

/// How the proxy takes a request's body.
enum class body_mode {
  none,     ///< the request has none: one that declares a body is refused from its head
  whole,    ///< read completely and checked first (Messages and its kin, the admin route)
  streamed, ///< relayed upstream as it arrives, with back-pressure (uploads, batches)
};
body_mode body_of(route r, boost::beast::http::verb method);

/// The largest body a route's family takes (413 beyond). For body_mode::whole routes the
/// configured --max-body-bytes applies instead.
std::uint64_t body_limit(route r);
/// The largest body any family takes: the limit while the head is read.
std::uint64_t largest_body_limit();

/// What the proxy reads from a Messages body; the body itself is relayed byte for byte.
struct message_facts {
  std::string model;
  bool stream = false;
};

/// Checks a Messages, count_tokens or chat completions body: JSON content type, a JSON object, a
/// non-empty string `model`, an array `messages`. Everything else is the upstream's to judge.
std::variant<message_facts, api_error> check_message_body(std::string_view content_type,
                                                          std::string_view body);

} // namespace proxy
