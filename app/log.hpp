#pragma once
// One JSON object per line on stdout. Callers never pass secrets.
#include <string>
#include <string_view>

namespace proxy {

/// Writes `{"ts":..,"event":<event>,<fields of object_json>}` atomically as one line.
/// `object_json` is a JSON object text.
void log_json(std::string_view event, std::string_view object_json);

} // namespace proxy
