#include "stats.hpp"

#include <algorithm>

namespace loadgen {
namespace {

void append(std::vector<std::int64_t> &to, std::vector<std::int64_t> &&from) {
  if (to.empty()) {
    to = std::move(from);
    return;
  }
  to.insert(to.end(), from.begin(), from.end());
  from = {};
}

percentiles percentiles_ms(std::vector<std::int64_t> &samples) {
  std::sort(samples.begin(), samples.end());
  auto ms = [&](int p) { return static_cast<double>(nearest_rank(samples, p)) / 1e6; };
  percentiles out;
  out.count = samples.size();
  out.p50 = ms(50);
  out.p90 = ms(90);
  out.p99 = ms(99);
  out.max = ms(100);
  return out;
}

} // namespace

void raw_stats::merge(raw_stats &&o) {
  append(ttfb_ns, std::move(o.ttfb_ns));
  append(latency_ns, std::move(o.latency_ns));
  append(gap_ns, std::move(o.gap_ns));
  requests += o.requests;
  ok += o.ok;
  not_started += o.not_started;
  events += o.events;
  streams += o.streams;
  streams_completed += o.streams_completed;
  events_per_stream_min = std::min(events_per_stream_min, o.events_per_stream_min);
  events_per_stream_max = std::max(events_per_stream_max, o.events_per_stream_max);
  for (std::size_t i = 0; i < broken.size(); ++i)
    broken[i] += o.broken[i];
  for (std::size_t i = 0; i < status.size(); ++i)
    status[i] += o.status[i];
  connect += o.connect;
  reset += o.reset;
  timeout += o.timeout;
  protocol += o.protocol;
}

std::int64_t nearest_rank(const std::vector<std::int64_t> &sorted, int p) {
  if (sorted.empty())
    return 0;
  const std::size_t n = sorted.size();
  // ceil(p * n / 100), at least 1, in integers so it is exact.
  std::size_t rank = (static_cast<std::size_t>(p) * n + 99) / 100;
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

summary summarize(raw_stats &r, double duration_s) {
  summary s;
  s.requests = r.requests;
  s.ok = r.ok;
  s.not_started = r.not_started;
  s.duration_s = duration_s;
  s.rps = duration_s > 0 ? static_cast<double>(r.requests) / duration_s : 0;
  s.ttfb_ms = percentiles_ms(r.ttfb_ns);
  s.latency_ms = percentiles_ms(r.latency_ns);
  s.gap_ms = percentiles_ms(r.gap_ns);

  s.events = r.events;
  s.events_per_s = duration_s > 0 ? static_cast<double>(r.events) / duration_s : 0;
  if (r.streams > 0) {
    s.events_per_stream_min = r.events_per_stream_min;
    s.events_per_stream_max = r.events_per_stream_max;
  }
  s.streams_completed = r.streams_completed;
  s.streams_broken = r.streams - r.streams_completed;
  auto reason = [&](broken_reason b) { return r.broken[static_cast<std::size_t>(b)]; };
  s.broken.error_event = reason(broken_reason::error_event);
  s.broken.timeout = reason(broken_reason::timeout);
  s.broken.closed = reason(broken_reason::closed);
  s.broken.protocol = reason(broken_reason::protocol);
  s.broken.status = reason(broken_reason::status);
  s.broken.no_message_stop = reason(broken_reason::no_message_stop);

  for (std::size_t code = 0; code < r.status.size(); ++code)
    if (r.status[code] > 0)
      s.status_errors[static_cast<int>(code)] = r.status[code];
  s.connect_errors = r.connect;
  s.reset_errors = r.reset;
  s.timeout_errors = r.timeout;
  s.protocol_errors = r.protocol;
  return s;
}

} // namespace loadgen
