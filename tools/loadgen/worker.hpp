#pragma once
// One load thread: its own io_context (concurrency hint 1) driving its share of the clients.

#include "response_parser.hpp"
#include "stats.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace loadgen {

// What every thread shares, fixed before the run starts.
struct plan {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string request; // the request bytes, written as they are
  clock::duration timeout{};
  clock::time_point start;
  std::optional<clock::time_point> deadline; // no request starts at or after it
  double rate = 0;                           // requests/s over all threads; 0 = closed loop
  unsigned threads = 1;
};

// One thread's part of the run.
struct share {
  unsigned index = 0;
  std::size_t clients = 0;
  std::uint64_t requests = UINT64_MAX; // UINT64_MAX = bounded by the deadline only
  std::size_t max_connecting = 1;
};

// Written by its thread, read by the progress reporter.
struct live_counters {
  std::atomic<std::uint64_t> requests{0}, errors{0};
  std::atomic<std::int64_t> open_streams{0};
};

// Runs one thread's share to the end and returns what it measured.
raw_stats run_worker(const plan &p, const share &s, live_counters &live);

} // namespace loadgen
