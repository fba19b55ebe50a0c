#pragma once
// What one relayed exchange did, for the session that asked for it. Plain data: the actor
// protocol carries it without pulling in any networking headers.
#include "policy/api_error.hpp"
#include "policy/sse_framer.hpp"

#include <chrono>
#include <string>

namespace proxy {

struct relay_outcome {
  enum class kind {
    relayed,      ///< the upstream's response (any status) went to the client, maybe cut short
    unauthorized, ///< the upstream said 401 and nothing went to the client
    failed,       ///< no response from the upstream and nothing went to the client: see error
    retry,        ///< the attempt failed in a way worth retrying, and nothing went to the client
  } what = kind::failed;
  std::string retry_reason; ///< why (kind::retry): status_529, overloaded_event, connect, ...
  std::chrono::milliseconds retry_wait{0}; ///< how long to wait before the retry
  /// What went wrong with the upstream, if anything.
  enum class failure_kind { none, connect, reset, timeout, malformed, stream_broken };
  failure_kind failure = failure_kind::none;
  api_error error;
  unsigned status = 0;
  bool upstream_reusable = false;
  bool client_gone = false;
  bool stream_broken = false; ///< the upstream died mid-body
  proxy::usage usage;
  std::string upstream_request_id;
  upstream_error_fields upstream_error; ///< the type and message of an error answer (JSON)
  std::chrono::steady_clock::time_point first_byte{}; ///< when the client got its first byte
};

/// The failure's name, for retry reasons and metric labels: connect, reset, timeout, ...
inline const char *failure_name(relay_outcome::failure_kind f) {
  using k = relay_outcome::failure_kind;
  switch (f) {
  case k::none:
    return "";
  case k::connect:
    return "connect";
  case k::reset:
    return "reset";
  case k::timeout:
    return "timeout";
  case k::malformed:
    return "malformed";
  case k::stream_broken:
    return "stream_broken";
  }
  return "";
}

} // namespace proxy
