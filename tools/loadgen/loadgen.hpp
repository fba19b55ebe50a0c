#pragma once
// loadgen: a load client for local multi-client runs against the proxy or any
// Anthropic-compatible endpoint. N keep-alive HTTP/1.1 clients POST a Messages request, closed
// loop or at a fixed rate, and the run is summarised: latencies, SSE events and gaps, streams
// completed or broken, errors by kind.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace loadgen {

// Once a second while the run lasts, when options::on_progress is set.
struct progress {
  double elapsed_s = 0;
  std::uint64_t requests = 0; // finished so far
  double rate = 0;            // requests/s over the last interval
  std::uint64_t errors = 0;   // finished requests that were not ok
  std::int64_t open_streams = 0;
};

struct options {
  std::string url = "http://127.0.0.1:8080"; // http://host[:port][/prefix]
  std::string path = "/v1/messages";         // appended to the URL's path
  std::size_t clients = 1;
  std::optional<std::uint64_t> requests; // in total; with neither limit, one per client
  std::optional<double> duration_s;      // stop starting requests after this long
  bool stream = false;                   // "stream" in the default body
  std::optional<std::string> body;       // replaces the default body
  std::string key;                       // x-api-key; empty = no such header
  std::vector<std::string> headers;      // "Name: value"; replaces a default of that name
  double rate = 0;                       // requests/s in total, open loop; 0 = closed loop
  double timeout_s = 60;                 // per connect and per request
  unsigned threads = 1;
  std::size_t max_connecting = 256; // TCP connects in progress at once, over all threads
  std::function<void(const progress &)> on_progress;
};

// Milliseconds; nearest-rank percentiles over every sample.
struct percentiles {
  std::size_t count = 0; // samples; the values are 0 when there are none
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

// Why an event stream did not complete. Exactly one per broken stream, in this priority.
struct broken_reasons {
  std::uint64_t error_event = 0;     // an `error` event arrived
  std::uint64_t timeout = 0;         // the request timed out
  std::uint64_t closed = 0;          // connection closed or reset before the end
  std::uint64_t protocol = 0;        // unparsable response
  std::uint64_t status = 0;          // non-2xx event stream
  std::uint64_t no_message_stop = 0; // ended properly but the last event was not message_stop
};

struct summary {
  std::string error; // set when the run could not start (bad options, unresolvable host)

  // Every request started is finished and counted exactly once. ok: a 2xx response received
  // whole and, for an event stream, completed.
  std::uint64_t requests = 0, ok = 0;
  // Open loop with --duration only: slots due before the end that no client was free for.
  std::uint64_t not_started = 0;
  double duration_s = 0, rps = 0;

  // ttfb: from the start of the request write (open loop: its scheduled start) to the first
  // response byte; latency: to the end of every response received whole, whatever its status.
  percentiles ttfb_ms, latency_ms;

  std::uint64_t events = 0; // SSE events over all event-stream responses
  double events_per_s = 0;
  std::uint64_t events_per_stream_min = 0, events_per_stream_max = 0;
  percentiles gap_ms; // between consecutive events of one stream

  std::uint64_t streams_completed = 0, streams_broken = 0; // event-stream responses
  broken_reasons broken;

  std::map<int, std::uint64_t> status_errors; // complete non-2xx responses by status
  std::uint64_t connect_errors = 0;  // connect failed or timed out (the request is not sent)
  std::uint64_t reset_errors = 0;    // connection closed or reset before the response ended
  std::uint64_t timeout_errors = 0;  // no whole response within the timeout
  std::uint64_t protocol_errors = 0; // unparsable response
};

// Empty when the options are usable, else what is wrong with them.
std::string check(const options &o);

// Runs the load and returns its summary; blocks until done. Always ends by itself: every
// connect and request is bounded by the timeout.
summary run(const options &o);

std::string to_json(const summary &s); // one JSON object
std::string to_text(const summary &s); // for people

} // namespace loadgen
