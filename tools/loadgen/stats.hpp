#pragma once
// Raw results of one load thread (every sample kept), merged after the run and turned into the
// summary.

#include "loadgen.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace loadgen {

enum class broken_reason { error_event, timeout, closed, protocol, status, no_message_stop };

struct raw_stats {
  std::vector<std::int64_t> ttfb_ns, latency_ns, gap_ns;
  std::uint64_t requests = 0, ok = 0, not_started = 0;
  std::uint64_t events = 0, streams = 0, streams_completed = 0;
  std::uint64_t events_per_stream_min = UINT64_MAX, events_per_stream_max = 0;
  std::array<std::uint64_t, 6> broken{};    // by broken_reason
  std::array<std::uint64_t, 1000> status{}; // complete non-2xx responses, by status code
  std::uint64_t connect = 0, reset = 0, timeout = 0, protocol = 0;

  void merge(raw_stats &&other);
};

// Sorts the samples in place.
summary summarize(raw_stats &stats, double duration_s);

// Nearest rank: the smallest sample with at least p% of the samples at or below it.
// `sorted` must be sorted; returns 0 for no samples.
std::int64_t nearest_rank(const std::vector<std::int64_t> &sorted, int p);

} // namespace loadgen
