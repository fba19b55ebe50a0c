#include "core/log.hpp"

#include "core/redact.hpp"

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

/// Lines of this thread not written yet, and how to get them written when batching.
struct thread_log {
  rapidjson::StringBuffer pending;
  std::function<void()> schedule_flush; ///< empty: no batching, every line written at once
};
thread_local thread_log this_thread_log;

/// A batch is written when it reaches this size, whatever the timer.
constexpr std::size_t max_batch = 64 * 1024;

/// Writes the lines in one write (or a few, if the pipe is full), under a lock: lines from
/// several threads never interleave.
void write_out(const char *data, std::size_t size) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::size_t done = 0;
  while (done < size) {
    auto n = ::write(STDOUT_FILENO, data + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // stdout is gone: logging must never stop the proxy
    done += static_cast<std::size_t>(n);
  }
}

/// Appends one line to this thread's buffer (reused: no allocation once it has grown), then
/// writes the buffer unless the line may wait for the batch.
template <class F> void write_line(std::string_view event, bool may_wait, F &&fields) {
  auto &log = this_thread_log;
  std::size_t start = log.pending.GetSize();
  bool batch_was_empty = start == 0;
  json_writer w(log.pending);
  w.StartObject();
  json_key(w, "ts");
  put_timestamp(w);
  json_field(w, "event", event);
  fields(w);
  w.EndObject();
  log.pending.Put('\n');
  std::string_view line(log.pending.GetString() + start, log.pending.GetSize() - start);
  if (contains_secret(line)) {
    auto clean = redact(line);
    log.pending.Pop(line.size());
    for (char c : clean)
      log.pending.Put(c);
  }
  if (!may_wait || !log.schedule_flush || log.pending.GetSize() >= max_batch)
    log_flush();
  else if (batch_was_empty)
    log.schedule_flush();
}

} // namespace

void log_event(std::string_view event, const std::function<void(json_writer &)> &fields) {
  write_line(event, false, [&](json_writer &w) {
    if (fields)
      fields(w);
  });
}

void log_request(const request_record &r) {
  write_line("request", true, [&](json_writer &w) {
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
    if (r.retries > 0) {
      json_field(w, "retries", r.retries);
      json_field(w, "retry_reasons", r.retry_reasons);
    }
    for (const char *flag : r.flags)
      if (flag)
        json_field(w, flag, true);
    if (!r.error.empty())
      json_field(w, "error", r.error);
  });
}

void log_batch_on_this_thread(std::function<void()> schedule_flush) {
  this_thread_log.schedule_flush = std::move(schedule_flush);
}

void log_flush() {
  auto &pending = this_thread_log.pending;
  if (pending.GetSize() == 0)
    return;
  write_out(pending.GetString(), pending.GetSize());
  pending.Clear();
}

} // namespace proxy
