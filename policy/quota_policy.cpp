#include "policy/quota_policy.hpp"

#include "core/text.hpp"

namespace proxy {

bool is_extra_usage_refusal(unsigned status, std::string_view error_type,
                            std::string_view message) {
  if (status != 400 || error_type != "invalid_request_error")
    return false;
  auto lowered = ascii_lowered(message);
  return lowered.find("extra usage") != std::string::npos &&
         lowered.find("third-party") != std::string::npos;
}

} // namespace proxy
