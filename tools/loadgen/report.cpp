// The summary as JSON (for scripts) and as text (for people).
#include "loadgen.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <utility>
#include <vector>

namespace loadgen {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::vector<std::pair<const char *, std::uint64_t>> reasons(const broken_reasons &b) {
  return {{"error_event", b.error_event}, {"timeout", b.timeout},
          {"closed", b.closed},           {"protocol", b.protocol},
          {"status", b.status},           {"no_message_stop", b.no_message_stop}};
}

void write_percentiles(json_writer &w, const char *name, const percentiles &p) {
  w.Key(name);
  w.StartObject();
  for (auto [key, value] :
       {std::pair{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}}) {
    w.Key(key);
    if (p.count == 0)
      w.Null(); // no samples: there is no such value
    else
      w.Double(value);
  }
  w.EndObject();
}

[[gnu::format(printf, 2, 3)]] void appendf(std::string &out, const char *format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  if (n > 0)
    out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

void text_percentiles(std::string &out, const char *label, const percentiles &p) {
  if (p.count == 0) {
    appendf(out, "%-12s no samples\n", label);
    return;
  }
  appendf(out, "%-12s p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%zu samples)\n", label, p.p50, p.p90,
          p.p99, p.max, p.count);
}

} // namespace

std::string to_json(const summary &s) {
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  w.SetMaxDecimalPlaces(6); // nanoseconds, in milliseconds
  const bool any_stream = s.streams_completed + s.streams_broken > 0;

  w.StartObject();
  w.Key("requests");
  w.Uint64(s.requests);
  w.Key("ok");
  w.Uint64(s.ok);
  w.Key("not_started");
  w.Uint64(s.not_started);
  w.Key("duration_s");
  w.Double(s.duration_s);
  w.Key("rps");
  w.Double(s.rps);
  write_percentiles(w, "ttfb_ms", s.ttfb_ms);
  write_percentiles(w, "latency_ms", s.latency_ms);

  w.Key("events");
  w.StartObject();
  w.Key("total");
  w.Uint64(s.events);
  w.Key("per_s");
  w.Double(s.events_per_s);
  w.Key("per_stream_min");
  any_stream ? w.Uint64(s.events_per_stream_min) : w.Null();
  w.Key("per_stream_max");
  any_stream ? w.Uint64(s.events_per_stream_max) : w.Null();
  w.EndObject();
  write_percentiles(w, "gap_ms", s.gap_ms);

  w.Key("streams");
  w.StartObject();
  w.Key("completed");
  w.Uint64(s.streams_completed);
  w.Key("broken");
  w.Uint64(s.streams_broken);
  w.Key("broken_reasons");
  w.StartObject();
  for (const auto &[name, n] : reasons(s.broken)) {
    w.Key(name);
    w.Uint64(n);
  }
  w.EndObject();
  w.EndObject();

  w.Key("errors");
  w.StartObject();
  w.Key("status");
  w.StartObject();
  for (const auto &[code, n] : s.status_errors) {
    const std::string key = std::to_string(code);
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.Uint64(n);
  }
  w.EndObject();
  w.Key("connect");
  w.Uint64(s.connect_errors);
  w.Key("reset");
  w.Uint64(s.reset_errors);
  w.Key("timeout");
  w.Uint64(s.timeout_errors);
  w.Key("protocol");
  w.Uint64(s.protocol_errors);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string to_text(const summary &s) {
  std::string out;
  appendf(out, "%-12s %llu in %.3f s: %.1f requests/s, %llu ok\n", "requests",
          static_cast<unsigned long long>(s.requests), s.duration_s, s.rps,
          static_cast<unsigned long long>(s.ok));
  if (s.not_started > 0)
    appendf(out, "%-12s %llu scheduled requests found no free client before the end\n",
            "not started", static_cast<unsigned long long>(s.not_started));
  text_percentiles(out, "ttfb ms", s.ttfb_ms);
  text_percentiles(out, "latency ms", s.latency_ms);

  const std::uint64_t streams = s.streams_completed + s.streams_broken;
  if (streams > 0) {
    appendf(out, "%-12s %llu in all, %.1f/s, per stream min %llu max %llu\n", "sse events",
            static_cast<unsigned long long>(s.events), s.events_per_s,
            static_cast<unsigned long long>(s.events_per_stream_min),
            static_cast<unsigned long long>(s.events_per_stream_max));
    text_percentiles(out, "gap ms", s.gap_ms);
    appendf(out, "%-12s %llu completed, %llu broken", "streams",
            static_cast<unsigned long long>(s.streams_completed),
            static_cast<unsigned long long>(s.streams_broken));
    const char *sep = " (";
    for (const auto &[name, n] : reasons(s.broken)) {
      if (n == 0)
        continue;
      appendf(out, "%s%s %llu", sep, name, static_cast<unsigned long long>(n));
      sep = ", ";
    }
    out += s.streams_broken > 0 ? ")\n" : "\n";
  } else {
    appendf(out, "%-12s none\n", "sse streams");
  }

  std::string errors;
  for (const auto &[code, n] : s.status_errors)
    appendf(errors, ", status %d: %llu", code, static_cast<unsigned long long>(n));
  for (auto [name, n] : {std::pair{"connect", s.connect_errors},
                         {"reset", s.reset_errors},
                         {"timeout", s.timeout_errors},
                         {"protocol", s.protocol_errors}})
    if (n > 0)
      appendf(errors, ", %s %llu", name, static_cast<unsigned long long>(n));
  appendf(out, "%-12s ", "errors");
  out += errors.empty() ? std::string("none") : errors.substr(2);
  out += '\n';
  return out;
}

} // namespace loadgen
