#include "metrics/metrics.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace proxy {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

const prometheus::Histogram::BucketBoundaries &latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return b;
}

/// A family computed when asked, with one metric per label set.
struct scraped_family {
  MetricFamily family;
  scraped_family(std::string name, std::string help, MetricType type) {
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = type;
  }
  void add(double value, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m;
    m.label = std::move(labels);
    if (family.type == MetricType::Counter)
      m.counter.value = value;
    else
      m.gauge.value = value;
    family.metric.push_back(std::move(m));
  }
};

} // namespace

proxy_metrics::proxy_metrics(std::size_t workers)
    : registry_(std::make_shared<prometheus::Registry>()),
      caches_(std::max<std::size_t>(1, workers)) {
  using namespace prometheus;
  requests_ = &BuildCounter()
                   .Name("claude_proxy_requests_total")
                   .Help("Requests answered, by route, method and status")
                   .Register(*registry_);
  auto &duration = BuildHistogram()
                       .Name("claude_proxy_request_duration_seconds")
                       .Help("From the request's arrival to the end of its answer")
                       .Register(*registry_);
  auto &ttfb = BuildHistogram()
                   .Name("claude_proxy_time_to_first_byte_seconds")
                   .Help("From the request's arrival to the first byte of the answer")
                   .Register(*registry_);
  for (int stream = 0; stream < 2; ++stream) {
    Labels l{{"stream", stream ? "true" : "false"}};
    duration_[stream] = &duration.Add(l, latency_buckets());
    ttfb_[stream] = &ttfb.Add(l, latency_buckets());
  }
  streams_open_ = &BuildGauge()
                       .Name("claude_proxy_streams_open")
                       .Help("Event streams being relayed to clients now")
                       .Register(*registry_)
                       .Add({});
  upstream_errors_ = &BuildCounter()
                          .Name("claude_proxy_upstream_errors_total")
                          .Help("Upstream failures by kind: connect, reset, timeout, malformed, "
                                "stream_broken, or http_<status> for error answers")
                          .Register(*registry_);
  retries_ = &BuildCounter()
                  .Name("claude_proxy_retries_total")
                  .Help("Attempts retried before the first byte, by reason")
                  .Register(*registry_);
  refused_ = &BuildCounter()
                  .Name("claude_proxy_refused_total")
                  .Help("Requests the proxy refused itself, by reason")
                  .Register(*registry_);
  tokens_ = &BuildCounter()
                 .Name("claude_proxy_tokens_total")
                 .Help("Tokens the upstream reported, by model and kind")
                 .Register(*registry_);
}

prometheus::Counter &proxy_metrics::requests_counter(worker_cache &cache, const request_sample &s) {
  // The key is built on the stack: the usual lookup allocates nothing.
  char status[8];
  auto status_end = std::to_chars(status, status + sizeof status, s.status).ptr;
  std::string_view status_text(status, static_cast<std::size_t>(status_end - status));
  char key_buffer[96];
  std::size_t length = 0;
  for (auto part : {s.route, std::string_view(" "), s.method, std::string_view(" "), status_text}) {
    part = part.substr(0, sizeof key_buffer - length);
    std::copy(part.begin(), part.end(), key_buffer + length);
    length += part.size();
  }
  std::string_view key(key_buffer, length);
  auto at = cache.requests.find(key);
  if (at == cache.requests.end()) {
    auto &c = requests_->Add({{"route", std::string(s.route)},
                              {"method", std::string(s.method)},
                              {"status", std::string(status_text)}});
    at = cache.requests.emplace(std::string(key), &c).first;
  }
  return *at->second;
}

proxy_metrics::token_counters &proxy_metrics::tokens_counters(worker_cache &cache,
                                                              std::string_view model) {
  auto at = cache.tokens.find(model);
  if (at != cache.tokens.end())
    return at->second;
  // Model names come from clients: only so many become labels.
  std::string label(model);
  {
    std::lock_guard lock(models_mutex_);
    if (!models_.count(label)) {
      if (models_.size() < max_models)
        models_.insert(label);
      else
        label = "other";
    }
  }
  auto counter = [&](const char *kind) {
    return &tokens_->Add({{"model", label}, {"kind", kind}});
  };
  token_counters t{counter("input"), counter("output"), counter("cache_read"),
                   counter("cache_creation")};
  return cache.tokens.emplace(std::string(model), t).first->second;
}

void proxy_metrics::record(std::size_t worker, const request_sample &s) {
  auto &cache = caches_[worker % caches_.size()];
  requests_counter(cache, s).Increment();
  duration_[s.stream]->Observe(s.duration_s);
  if (s.ttfb_s)
    ttfb_[s.stream]->Observe(*s.ttfb_s);
  if (!s.refused.empty())
    refused_->Add({{"reason", std::string(s.refused)}}).Increment();
  for (std::size_t pos = 0; pos < s.retry_reasons.size();) {
    auto comma = s.retry_reasons.find(',', pos);
    auto reason = s.retry_reasons.substr(pos, comma - pos);
    retries_->Add({{"reason", std::string(reason)}}).Increment();
    pos = comma == std::string_view::npos ? s.retry_reasons.size() : comma + 1;
  }
  if (s.input_tokens || s.output_tokens || s.cache_read_tokens || s.cache_creation_tokens) {
    auto &t = tokens_counters(cache, s.model.empty() ? std::string_view("unknown") : s.model);
    t.input->Increment(static_cast<double>(s.input_tokens));
    t.output->Increment(static_cast<double>(s.output_tokens));
    t.cache_read->Increment(static_cast<double>(s.cache_read_tokens));
    t.cache_creation->Increment(static_cast<double>(s.cache_creation_tokens));
  }
}

std::string proxy_metrics::render(const scrape_facts &f) const {
  auto families = registry_->Collect();
  auto add = [&](scraped_family &&s) { families.push_back(std::move(s.family)); };

  scraped_family in_flight("claude_proxy_requests_in_flight", "Requests being served now",
                           MetricType::Gauge);
  in_flight.add(f.requests_in_flight);
  add(std::move(in_flight));
  scraped_family limits("claude_proxy_limit",
                        "Configured limits: capacity (streams) and "
                        "max_in_flight (requests)",
                        MetricType::Gauge);
  limits.add(static_cast<double>(f.capacity), {{"limit", "capacity"}});
  limits.add(static_cast<double>(f.max_in_flight), {{"limit", "max_in_flight"}});
  add(std::move(limits));
  scraped_family draining("claude_proxy_draining", "1 while shutting down", MetricType::Gauge);
  draining.add(f.draining ? 1 : 0);
  add(std::move(draining));

  scraped_family pool("claude_proxy_upstream_connections", "Upstream connections by state",
                      MetricType::Gauge);
  pool.add(static_cast<double>(f.pool_open), {{"state", "open"}});
  pool.add(static_cast<double>(f.pool_idle), {{"state", "idle"}});
  pool.add(static_cast<double>(f.pool_busy), {{"state", "busy"}});
  add(std::move(pool));

  scraped_family usable("claude_proxy_credential_usable",
                        "1 when the credential can serve requests", MetricType::Gauge);
  usable.add(f.credential_usable ? 1 : 0);
  add(std::move(usable));
  if (f.oauth) {
    scraped_family refreshes("claude_proxy_credential_refreshes_total",
                             "OAuth refreshes by outcome", MetricType::Counter);
    refreshes.add(static_cast<double>(f.refreshes_ok), {{"outcome", "ok"}});
    refreshes.add(static_cast<double>(f.refreshes_failed), {{"outcome", "failed"}});
    add(std::move(refreshes));
  }
  if (f.credential_expires_in_s) {
    scraped_family expiry("claude_proxy_credential_expiry_seconds",
                          "Seconds until the access token expires", MetricType::Gauge);
    expiry.add(static_cast<double>(*f.credential_expires_in_s));
    add(std::move(expiry));
  }

  scraped_family refusals("claude_proxy_extra_usage_refusals_total",
                          "Requests the upstream refused as third-party use of a subscription "
                          "credential (extra usage needed)",
                          MetricType::Counter);
  refusals.add(static_cast<double>(f.quota.extra_usage_refusals));
  add(std::move(refusals));
  scraped_family quota("claude_proxy_quota_state",
                       "1 for the credential's quota state: ok, extra_usage_required or "
                       "plan_limit_reached",
                       MetricType::Gauge);
  using q = quota_state::kind;
  for (auto [state, name] :
       {std::pair{q::ok, "ok"}, std::pair{q::extra_usage_required, "extra_usage_required"},
        std::pair{q::plan_limit_reached, "plan_limit_reached"}})
    quota.add(f.quota.state == state ? 1 : 0, {{"state", name}});
  add(std::move(quota));

  scraped_family numbers("claude_proxy_upstream_ratelimit",
                         "The upstream's latest anthropic-ratelimit-* values (reset times as Unix "
                         "seconds)",
                         MetricType::Gauge);
  scraped_family words("claude_proxy_upstream_ratelimit_info",
                       "The upstream's latest anthropic-ratelimit-* values that are words",
                       MetricType::Gauge);
  for (const auto &[name, value] : f.rate_limits) {
    double n = 0;
    if (rate_limit_number(value, n))
      numbers.add(n, {{"header", name}});
    else
      words.add(1, {{"header", name}, {"value", value}});
  }
  if (!numbers.family.metric.empty())
    add(std::move(numbers));
  if (!words.family.metric.empty())
    add(std::move(words));

  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

} // namespace proxy
