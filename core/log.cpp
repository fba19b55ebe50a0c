#include "core/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace proxy {
namespace {

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return ts;
}

/// One write per line, under a lock: lines from several threads never interleave.
void write_line(std::string line) {
  static std::mutex mutex;
  line += '\n';
  std::lock_guard<std::mutex> lock(mutex);
  std::size_t done = 0;
  while (done < line.size()) {
    auto n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // stdout is gone: logging must never stop the proxy
    done += static_cast<std::size_t>(n);
  }
}

} // namespace

void log_event(std::string_view event, const std::function<void(json_writer &)> &fields) {
  write_line(write_json([&](json_writer &w) {
    w.StartObject();
    json_field(w, "ts", timestamp());
    json_field(w, "event", event);
    if (fields)
      fields(w);
    w.EndObject();
  }));
}

void log_request(const request_record &r) {
  log_event("request", [&](json_writer &w) {
    json_field(w, "id", r.id);
    json_field(w, "method", r.method);
    json_field(w, "path", r.path);
    json_field(w, "status", static_cast<std::int64_t>(r.status));
    json_field(w, "model", r.model);
    json_field(w, "stream", r.stream);
    if (r.ttfb_ms)
      json_field(w, "ttfb_ms", *r.ttfb_ms);
    json_field(w, "duration_ms", r.duration_ms);
    json_field(w, "input_tokens", r.input_tokens);
    json_field(w, "output_tokens", r.output_tokens);
    json_field(w, "cache_read_input_tokens", r.cache_read_input_tokens);
    json_field(w, "upstream_request_id", r.upstream_request_id);
    for (const char *flag : r.flags)
      json_field(w, flag, true);
    if (!r.error.empty())
      json_field(w, "error", r.error);
  });
}

} // namespace proxy
