#pragma once
// The /health document: what an operator watching the proxy needs to see. Pure.
#include "actors/protocol.hpp"
#include "metrics/rate_limits.hpp"

#include <string>
#include <utility>
#include <vector>

namespace proxy {

struct health_facts {
  std::string mode;     ///< api_key, oauth, bearer or simulator
  std::string upstream; ///< the upstream base URL (no secrets in it)
  std::size_t capacity = 0;
  std::size_t max_in_flight = 0;
  int requests_in_flight = 0; ///< besides the /health request itself
  bool draining = false;      ///< shutting down: finishing what is in flight, taking nothing new
  /// The upstream's latest anthropic-ratelimit-* headers, and when they came (0: never).
  std::vector<std::pair<std::string, std::string>> rate_limits;
  std::int64_t rate_limits_updated_ms = 0;
  quota_state quota; ///< refusals of third-party subscription use, plan limit reached
  std::int64_t uptime_s = 0;
};

/// The document and its status: 200 when the proxy can serve, 503 when not (or draining). `pool`
/// sums every network thread's pool.
std::pair<unsigned, std::string>
health_json(const health_facts &facts, const credential_status &cred, const pool_status &pool);

} // namespace proxy
