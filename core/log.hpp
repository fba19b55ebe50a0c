#pragma once
// One JSON object per line on stdout. Callers never pass secrets.
//
// A thread that serves many requests (a network thread) can batch its request lines: after
// log_batch_on_this_thread(), request lines collect in the thread's buffer and are written in
// one write when the thread calls log_flush() (its timer), when the buffer is large, or with
// the next other event. One write per request line cost about as much CPU as the rest of the
// request's user-space work. Other events are written at once, after the lines before them.
#include "core/json.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace proxy {

/// Writes `{"ts":..,"event":<event>,...}` as one line; `fields` adds the other members.
void log_event(std::string_view event, const std::function<void(json_writer &)> &fields = {});

/// What the per-request log line says about one request. Views: the line is written before
/// the call returns.
struct request_record {
  std::string_view id, method, path, model, upstream_request_id, error;
  int retries = 0;
  std::string_view retry_reasons; ///< comma-separated, one per retry
  unsigned status = 0;
  bool stream = false;
  std::optional<std::int64_t> ttfb_ms;
  std::int64_t duration_ms = 0;
  std::int64_t input_tokens = 0, output_tokens = 0, cache_read_input_tokens = 0;
  std::array<const char *, 4> flags{}; ///< e.g. "client_gone", each logged as `"flag":true`
};

void log_request(const request_record &r);

/// From now on, request lines on this thread wait in its buffer; `schedule_flush` is called
/// when the first line of a batch arrives, and must see to it that log_flush() runs on this
/// thread soon (the network threads: within 100 ms).
void log_batch_on_this_thread(std::function<void()> schedule_flush);
/// Writes what this thread has buffered.
void log_flush();

} // namespace proxy
