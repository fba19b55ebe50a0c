#pragma once
// One request/response exchange with the upstream, relayed to the client as it arrives.
#include "http/api_error.hpp"
#include "http/client_link.hpp"
#include "http/sse_framer.hpp"
#include "http/upstream_connection.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace proxy {

struct relay_params {
  http::verb method = http::verb::post;
  std::string target;   ///< upstream request target (base path included)
  http::fields headers; ///< already filtered by the header policy, credential included
  std::shared_ptr<const std::string> body;
  /// Hand an upstream 401 back to the caller (which refreshes and retries) instead of relaying.
  bool intercept_unauthorized = false;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::seconds upstream_timeout{600};
  std::chrono::seconds stream_idle_timeout{300};
};

struct relay_outcome {
  enum class kind {
    relayed,      ///< the upstream's response (any status) went to the client, maybe cut short
    unauthorized, ///< the upstream said 401 and nothing went to the client
    failed,       ///< no response from the upstream and nothing went to the client: see error
  } what = kind::failed;
  api_error error;
  unsigned status = 0;
  bool upstream_reusable = false;
  bool client_gone = false;
  bool stream_broken = false; ///< the upstream died mid-body
  proxy::usage usage;
  std::string upstream_request_id;
  std::chrono::steady_clock::time_point first_byte{}; ///< when the client got its first byte
};

/// Sends the request on `up` (connecting first if needed; a reused connection that fails before
/// any answer is reconnected once) and streams the answer to `client` with bounded buffering.
/// Watches the client meanwhile: a client that goes away closes the upstream connection.
task<relay_outcome> relay(upstream_connection &up, client_link &client, const relay_params &p);

/// Writes a complete response the proxy made itself. Returns false when the client is gone.
task<bool> write_response(client_link &client, unsigned status, std::string body,
                          std::string_view content_type, const http::fields *extra = nullptr);

/// An Anthropic-shaped error response with a request-id header.
task<bool> write_error(client_link &client, api_error err, std::string request_id);

} // namespace proxy
