#pragma once
// The session actor: one per request, on the network thread of its client. It checks the
// request, takes the published token (asking the credential actor only when none is fresh),
// leases an upstream connection from its thread's pool actor, has the relay stream the answer,
// retries once after a refresh when the upstream says 401, returns the connection, logs one
// line, and ends.
#include "actors/protocol.hpp"
#include "actors/token_board.hpp"
#include "io/in_flight.hpp"
#include "io/server.hpp"
#include "metrics/metrics.hpp"
#include "metrics/rate_limits.hpp"
#include "policy/request_check.hpp"
#include "policy/url.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace proxy {

/// What every session shares: fixed for the life of the proxy.
struct session_env {
  credential_actor credentials;
  std::vector<pool_actor> pools; ///< one per network thread, by worker index
  std::shared_ptr<token_board> tokens;
  endpoint_url upstream;
  std::string mode; ///< api_key, oauth, bearer or simulator
  std::size_t capacity = 0;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::seconds upstream_timeout{600};
  std::chrono::seconds stream_idle_timeout{300};
  std::chrono::seconds sse_keepalive{0};
  int retries = 2; ///< retries per request before its first byte
  std::chrono::milliseconds retry_max_wait{10'000};
  std::chrono::milliseconds actor_timeout{60'000}; ///< longest wait for a token or a status
  bool log_requests = true;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::shared_ptr<in_flight_counter> in_flight;
  /// Sessions serving a request, until they end: a session still logs and records its request
  /// after the server has the connection back (so the server's count is already down), and
  /// shutting down waits for both.
  std::shared_ptr<in_flight_counter> sessions;
  std::size_t max_in_flight = 0;
  std::shared_ptr<std::atomic<bool>> draining = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<proxy_metrics> metrics;
  std::shared_ptr<rate_limit_board> rate_limits = std::make_shared<rate_limit_board>();
};

struct session_state {
  std::shared_ptr<const session_env> env;
  incoming_request req;
  message_facts facts;
  upstream_auth auth;
  bool refreshable = false;
  bool retried = false; ///< refreshed after a 401 and tried again
  int retries = 0;      ///< attempts retried after the upstream refused them
  std::string retry_reasons;
  relay_outcome outcome;
  api_error error; ///< set when the proxy itself answered with an error
  bool errored = false;
  const char *refused = "";         ///< why the proxy refused the request itself, for the metrics
  bool stream_counted = false;      ///< counted in the metrics' open streams
  bool extra_usage_refusal = false; ///< the upstream refused third-party subscription use
  bool holds_client = false;        ///< the server waits for us
  bool counted = false;             ///< counted in env->sessions

  /// Hands the connection back to the server, once. Also runs if the actor ends abnormally,
  /// so no connection waits forever on a session that is gone.
  void release_client() {
    if (!holds_client)
      return;
    holds_client = false;
    req.client->finish(req.serial);
  }
  ~session_state() {
    release_client();
    if (counted)
      env->sessions->add(req.client->worker(), -1);
  }
  static inline const char *name = "session";
};

/// A session that waits for its request (start_atom), serves it, and ends.
session_actor::behavior_type session_behavior(session_actor::stateful_pointer<session_state> self,
                                              std::shared_ptr<const session_env> env);

} // namespace proxy
