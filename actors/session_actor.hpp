#pragma once
// The session actor: one per request. It checks the request, gets a token from the credential
// actor, leases an upstream connection from the pool actor, has the relay stream the answer,
// retries once after a refresh when the upstream says 401, returns the connection, logs one
// line, and ends.
#include "actors/messages.hpp"
#include "http/client_link.hpp"
#include "http/request_check.hpp"
#include "http/url.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace proxy {

/// What every session shares: fixed for the life of the proxy.
struct session_env {
  caf::actor credentials;
  caf::actor pool;
  endpoint_url upstream;
  std::string mode; ///< api_key, oauth, bearer or simulator
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::seconds upstream_timeout{600};
  std::chrono::seconds stream_idle_timeout{300};
  std::chrono::milliseconds actor_timeout{60'000}; ///< longest wait for a token
  std::chrono::milliseconds lease_timeout{35'000}; ///< longer than the pool's own wait limit
  bool log_requests = true;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::shared_ptr<std::atomic<int>> in_flight = std::make_shared<std::atomic<int>>(0);
};

struct session_request {
  std::shared_ptr<client_link> client;
  route kind = route::not_found;
  http::verb method = http::verb::get;
  std::string target;
  http::fields headers;
  std::shared_ptr<const std::string> body;
  std::string request_id;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
};

struct session_state {
  std::shared_ptr<const session_env> env;
  session_request req;
  message_facts facts;
  token_reply token;
  bool retried = false;
  relay_outcome outcome;
  api_error error; ///< set when the proxy itself answered with an error
  bool errored = false;
  bool holds_client = false; ///< the frontend waits for us and we count as in flight

  /// Hands the connection back to the frontend, once. Also runs if the actor ends abnormally,
  /// so no connection waits forever on a session that is gone.
  void release_client() {
    if (!holds_client)
      return;
    holds_client = false;
    --*env->in_flight;
    req.client->finish();
  }
  ~session_state() { release_client(); }
  static inline const char *name = "session";
};

caf::behavior session_actor(caf::stateful_actor<session_state> *self,
                            std::shared_ptr<const session_env> env, session_request req);

/// The /health document and its status (200 when the proxy can serve, 503 when not).
std::pair<unsigned, std::string> health_json(const session_env &env, const credential_status &cred,
                                             const pool_status &pool);

} // namespace proxy
