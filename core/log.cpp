#include "core/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace proxy {

void log_json(std::string_view event, std::string_view object_json) {
  static std::mutex mutex;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[80];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  std::string line = "{\"ts\":\"" + std::string(ts) + "\",\"event\":\"" + std::string(event) + "\"";
  auto inner = object_json;
  if (inner.size() > 2 && inner.front() == '{') {
    line += ',';
    line += inner.substr(1);
  } else {
    line += '}';
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void log_request(const request_record &r) {
  std::string line = "{\"id\":\"" + json_escape(r.id) + "\",\"method\":\"" + json_escape(r.method) +
                     "\",\"path\":\"" + json_escape(r.path) +
                     "\",\"status\":" + std::to_string(r.status) + ",\"model\":\"" +
                     json_escape(r.model) + "\",\"stream\":" + (r.stream ? "true" : "false");
  if (r.ttfb_ms)
    line += ",\"ttfb_ms\":" + std::to_string(*r.ttfb_ms);
  line += ",\"duration_ms\":" + std::to_string(r.duration_ms) +
          ",\"input_tokens\":" + std::to_string(r.input_tokens) +
          ",\"output_tokens\":" + std::to_string(r.output_tokens) +
          ",\"cache_read_input_tokens\":" + std::to_string(r.cache_read_input_tokens) +
          ",\"upstream_request_id\":\"" + json_escape(r.upstream_request_id) + "\"";
  for (const char *flag : r.flags)
    line += ",\"" + std::string(flag) + "\":true";
  if (!r.error.empty())
    line += ",\"error\":\"" + json_escape(r.error) + "\"";
  log_json("request", line + "}");
}

} // namespace proxy
