#include "actors/health.hpp"

#include "core/json.hpp"
#include "policy/quota_policy.hpp"

#include <ctime>

namespace proxy {
namespace {

std::string iso8601(std::int64_t epoch_ms) {
  std::time_t t = epoch_ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace

std::pair<unsigned, std::string>
health_json(const health_facts &facts, const credential_status &cred, const pool_status &pool) {
  bool ok = cred.usable && !facts.draining;
  auto body = write_public_json([&](json_writer &w) {
    w.StartObject();
    json_field(w, "status", facts.draining ? "draining" : ok ? "ok" : "unavailable");
    json_field(w, "version", PROXY_VERSION);
    json_field(w, "mode", facts.mode);
    if (facts.mode == "simulator")
      json_field(w, "warning",
                 "DEMO MODE: answers come from the bundled upstream simulator, not "
                 "from Anthropic");
    json_key(w, "credential");
    w.StartObject();
    json_field(w, "kind", cred.kind);
    json_field(w, "state", cred.state);
    json_field(w, "store", cred.store);
    if (cred.expires_in_s)
      json_field(w, "expires_in_s", *cred.expires_in_s);
    json_key(w, "last_refresh");
    if (cred.last_refresh_ms)
      json_string(w, iso8601(cred.last_refresh_ms));
    else
      w.Null();
    json_key(w, "last_error");
    if (cred.last_error.empty())
      w.Null();
    else
      json_string(w, cred.last_error);
    json_field(w, "refreshes", cred.refreshes);
    // Where the credential stands with the upstream's quota: shown, never worked around.
    json_key(w, "quota");
    w.StartObject();
    using q = quota_state::kind;
    const auto &quota = facts.quota;
    json_field(w, "state",
               quota.state == q::extra_usage_required ? "extra_usage_required"
               : quota.state == q::plan_limit_reached ? "plan_limit_reached"
                                                      : "ok");
    if (quota.state == q::extra_usage_required)
      json_field(w, "hint", extra_usage_hint);
    else if (quota.state == q::plan_limit_reached)
      json_field(w, "hint", plan_limit_hint);
    json_field(w, "extra_usage_refusals", quota.extra_usage_refusals);
    json_key(w, "last_refusal");
    if (quota.last_refusal_ms)
      json_string(w, iso8601(quota.last_refusal_ms));
    else
      w.Null();
    w.EndObject();
    w.EndObject();
    json_key(w, "upstream");
    w.StartObject();
    json_field(w, "base_url", facts.upstream);
    json_key(w, "pool");
    w.StartObject();
    json_field(w, "open", static_cast<std::uint64_t>(pool.open));
    json_field(w, "idle", static_cast<std::uint64_t>(pool.idle));
    json_field(w, "busy", static_cast<std::uint64_t>(pool.busy));
    json_field(w, "max", static_cast<std::uint64_t>(pool.max));
    w.EndObject();
    w.EndObject();
    // What the upstream last said about this credential's limits, header by header.
    json_key(w, "rate_limits");
    w.StartObject();
    json_key(w, "updated");
    if (facts.rate_limits_updated_ms)
      json_string(w, iso8601(facts.rate_limits_updated_ms));
    else
      w.Null();
    json_key(w, "headers");
    w.StartObject();
    for (const auto &[name, value] : facts.rate_limits)
      json_field(w, name, value);
    w.EndObject();
    w.EndObject();
    json_field(w, "capacity", static_cast<std::uint64_t>(facts.capacity));
    json_field(w, "max_in_flight", static_cast<std::uint64_t>(facts.max_in_flight));
    json_field(w, "requests_in_flight", facts.requests_in_flight);
    json_field(w, "uptime_s", facts.uptime_s);
    w.EndObject();
  });
  return {ok ? 200u : 503u, body};
}

} // namespace proxy
