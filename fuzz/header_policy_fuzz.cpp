// Client headers as the parser would deliver them (no CR, LF or NUL in values): the upstream
// head is well formed, carries exactly one credential (ours), and no client credential leaks.
#include "core/text.hpp"
#include "fuzz_input.hpp"
#include "policy/header_policy.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  proxy::http::fields client;
  for (auto line : fuzz::pieces(input)) {
    auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos)
      continue;
    auto name = line.substr(0, colon), value = line.substr(colon + 1);
    bool token = true;
    for (char c : name)
      token = token && c > 32 && c < 127 && c != ':';
    bool clean = value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
    if (token && clean)
      client.insert(name, value);
  }
  proxy::upstream_auth auth{proxy::upstream_auth::scheme::api_key, "sk-ant-api03-ours", false};
  auto head = proxy::upstream_request_head(proxy::http::verb::post, "/v1/messages", "api.example",
                                           client, auth, 10);
  fuzz::require(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
  fuzz::require(head.find("\r\n\r\n") == head.size() - 4);
  auto lowered = proxy::ascii_lowered(head);
  std::size_t keys = 0;
  for (auto at = lowered.find("\r\nx-api-key:"); at != std::string::npos;
       at = lowered.find("\r\nx-api-key:", at + 1))
    ++keys;
  fuzz::require(keys == 1);
  fuzz::require(head.find("\r\nx-api-key: sk-ant-api03-ours\r\n") != std::string::npos);
  proxy::client_key_matches(client, "proxy-key");
  proxy::host_error(client, 11);
  proxy::merge_betas(client, "oauth-2025-04-20");
  std::string out;
  proxy::append_response_headers(out, client);
  return 0;
}
