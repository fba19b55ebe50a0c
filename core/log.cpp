#include "core/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <mutex>

namespace proxy {
namespace {

/// Appends "2026-11-24T10:47:51.876Z". The part up to the seconds is formatted once a second
/// per thread.
void put_timestamp(json_writer &w) {
  thread_local std::int64_t cached_second = -1;
  thread_local char text[32];
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::int64_t second = ms / 1000;
  if (second != cached_second) {
    std::time_t t = second;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    cached_second = second;
  }
  auto milli = static_cast<int>(ms % 1000);
  text[20] = static_cast<char>('0' + milli / 100);
  text[21] = static_cast<char>('0' + milli / 10 % 10);
  text[22] = static_cast<char>('0' + milli % 10);
  w.String(text, 24);
}

/// Formats one line into this thread's buffer (reused: no allocation once it has grown) and
/// writes it with one write, under a lock: lines from several threads never interleave.
template <class F> void write_line(std::string_view event, F &&fields) {
  thread_local rapidjson::StringBuffer buffer;
  buffer.Clear();
  json_writer w(buffer);
  w.StartObject();
  json_key(w, "ts");
  put_timestamp(w);
  json_field(w, "event", event);
  fields(w);
  w.EndObject();
  buffer.Put('\n');
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const char *data = buffer.GetString();
  std::size_t size = buffer.GetSize(), done = 0;
  while (done < size) {
    auto n = ::write(STDOUT_FILENO, data + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // stdout is gone: logging must never stop the proxy
    done += static_cast<std::size_t>(n);
  }
}

} // namespace

void log_event(std::string_view event, const std::function<void(json_writer &)> &fields) {
  write_line(event, [&](json_writer &w) {
    if (fields)
      fields(w);
  });
}

void log_request(const request_record &r) {
  write_line("request", [&](json_writer &w) {
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
      if (flag)
        json_field(w, flag, true);
    if (!r.error.empty())
      json_field(w, "error", r.error);
  });
}

} // namespace proxy
