#pragma once
// One request/response exchange with the upstream, relayed to the client as it arrives.
#include "io/client_link.hpp"
#include "io/relay_outcome.hpp"
#include "io/upstream_connection.hpp"
#include "metrics/rate_limits.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace proxy {

struct relay_params {
  std::string head; ///< the upstream request head, credential included (upstream_request_head)
  std::shared_ptr<const std::string> body;
  /// Set: the body is read from the client as the upstream takes it (`head` says how it is
  /// framed) instead of `body`. Never sent twice: no retries, no 401 interception.
  std::optional<streamed_body> streamed;
  /// Non-empty: a 2xx JSON answer is read whole (up to 16 MiB) and its batches' results_url
  /// moved to this origin (policy/results_url.hpp) before it goes to the client.
  std::string results_origin;
  bool head_request = false; ///< a HEAD request: the response has no body whatever it says
  /// Hand an upstream 401 back to the caller (which refreshes and retries) instead of relaying.
  bool intercept_unauthorized = false;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::seconds upstream_timeout{600};
  std::chrono::seconds stream_idle_timeout{300};
  /// Retries left for this request: a refused attempt (see policy/retry_policy.hpp) comes back as
  /// kind::retry instead of being relayed. A 200 event stream is held back until its first
  /// content event (or 2 KiB) meanwhile, so an overloaded_error before content is retried too.
  bool may_retry = false;
  int attempt = 0; ///< retries done so far
  std::chrono::milliseconds retry_max_wait{10'000};
  /// Where the upstream's anthropic-ratelimit-* headers go as they arrive; may be null.
  rate_limit_board *rate_limits = nullptr;
  /// An SSE comment goes to the client when the upstream has been quiet this long; 0 = never.
  std::chrono::seconds keepalive{0};
};

/// Sends the request on `up` (connecting first if needed; a pooled connection that fails before
/// the request left is reconnected once) and streams the answer to `client` as it arrives,
/// holding at most one unfinished event per stream. Watches the client meanwhile: a client that
/// goes away closes the upstream connection. Runs on the executor both connections share; `p`
/// must outlive it.
task<relay_outcome> relay(std::shared_ptr<upstream_connection> up,
                          std::shared_ptr<client_link> client, const relay_params &p);

} // namespace proxy
