#pragma once
#include <string>
#include <string_view>

namespace proxy {

/// JSON string escaping for values embedded in JSON text the proxy builds itself.
std::string json_escape(std::string_view text);

} // namespace proxy
