#pragma once
// The proxy's metrics in the Prometheus text format (prometheus-cpp's registry and serializer).
// Request counters are recorded as requests finish, from the thread that served them; what
// other parts own (credential, pools, rate limits) is read when /metrics is asked for.
#include "metrics/rate_limits.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace proxy {

/// What one finished request contributes.
struct request_sample {
  std::string_view route; ///< messages, count_tokens, models, health, ... (request_check)
  std::string_view method;
  unsigned status = 0;
  bool stream = false;
  double duration_s = 0;
  std::optional<double> ttfb_s; ///< when a byte of the answer reached the client
  std::string_view model;       ///< as the client asked for it; "" when none
  std::int64_t input_tokens = 0, output_tokens = 0, cache_read_tokens = 0,
               cache_creation_tokens = 0;
  std::string_view retry_reasons; ///< comma-separated, one per retry
  std::string_view refused;       ///< why the proxy refused it itself (auth, overload, ...)
};

/// What /metrics reads from the rest of the proxy when it is asked.
struct scrape_facts {
  bool oauth = false;
  bool credential_usable = true;
  std::optional<std::int64_t> credential_expires_in_s;
  std::int64_t refreshes_ok = 0, refreshes_failed = 0;
  std::size_t pool_open = 0, pool_idle = 0, pool_busy = 0, capacity = 0, max_in_flight = 0;
  int requests_in_flight = 0;
  bool draining = false;
  header_pairs rate_limits; ///< the upstream's latest anthropic-ratelimit-* values
  quota_state quota;
};

class proxy_metrics {
public:
  /// `workers`: network threads; each records into a cache of its own (no lock per request).
  explicit proxy_metrics(std::size_t workers);

  /// A request finished on network thread `worker`.
  void record(std::size_t worker, const request_sample &s);
  /// An attempt at the upstream failed: connect, reset, timeout, malformed, stream_broken, or
  /// http_<status> for an error answer (429, 5xx).
  void upstream_error(std::string_view kind) {
    upstream_errors_->Add({{"kind", std::string(kind)}}).Increment();
  }
  /// An event stream began (+1) or ended (-1) towards a client.
  void stream_open(int delta) { streams_open_->Increment(delta); }

  /// The text exposition (version 0.0.4) of everything.
  std::string render(const scrape_facts &facts) const;

  /// Distinct model labels kept; requests for other models count under "other".
  static constexpr std::size_t max_models = 64;

private:
  struct token_counters {
    prometheus::Counter *input, *output, *cache_read, *cache_creation;
  };
  /// One per network thread, touched only there.
  struct worker_cache {
    std::map<std::string, prometheus::Counter *, std::less<>> requests;
    std::map<std::string, token_counters, std::less<>> tokens;
  };
  prometheus::Counter &requests_counter(worker_cache &cache, const request_sample &s);
  token_counters &tokens_counters(worker_cache &cache, std::string_view model);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter> *requests_, *tokens_, *upstream_errors_, *retries_,
      *refused_;
  prometheus::Histogram *duration_[2], *ttfb_[2]; ///< by stream (0: no, 1: yes)
  prometheus::Gauge *streams_open_;
  std::vector<worker_cache> caches_;
  std::mutex models_mutex_;
  std::set<std::string, std::less<>> models_; ///< label values handed out so far
};

} // namespace proxy
