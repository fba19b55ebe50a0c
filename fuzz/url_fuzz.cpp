// Upstream and token URLs and Host values: parsing never crashes, and a parsed URL written out
// parses to the same thing.
#include "core/text.hpp"
#include "fuzz_input.hpp"
#include "policy/header_policy.hpp"
#include "policy/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  if (auto url = proxy::parse_url(input)) {
    auto again = proxy::parse_url(url.value().to_string());
    fuzz::require(static_cast<bool>(again));
    fuzz::require(
        again.value().host == url.value().host && again.value().port == url.value().port &&
        again.value().base_path == url.value().base_path && again.value().tls == url.value().tls);
  }
  proxy::valid_host(input);
  return 0;
}
