#pragma once
// One JSON object per line on stdout. Callers never pass secrets.
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
  unsigned status = 0;
  bool stream = false;
  std::optional<std::int64_t> ttfb_ms;
  std::int64_t duration_ms = 0;
  std::int64_t input_tokens = 0, output_tokens = 0, cache_read_input_tokens = 0;
  std::array<const char *, 4> flags{}; ///< e.g. "client_gone", each logged as `"flag":true`
};

void log_request(const request_record &r);

} // namespace proxy
