// Credential files from anywhere (a keychain, a pasted variable): parsing never crashes, and
// writing a rotated pair back keeps what parsing reads.
#include "auth/credentials.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  auto parsed = proxy::parse_claude_credentials(input);
  proxy::oauth_tokens rotated{"sk-ant-oat01-new", "sk-ant-ort01-new", 1234};
  auto updated = proxy::update_claude_credentials(input, rotated);
  auto again = proxy::parse_claude_credentials(updated);
  fuzz::require(static_cast<bool>(again));
  fuzz::require(again.value().access_token == rotated.access_token &&
                again.value().refresh_token == rotated.refresh_token &&
                again.value().expires_at_ms == rotated.expires_at_ms);
  (void)parsed;
  proxy::decode_hex(input);
  return 0;
}
