// Request bodies and targets from clients: the body check never crashes, a path it calls
// canonical has no segment an upstream could resolve differently, and no other path names a
// route that goes upstream.
#include "core/text.hpp"
#include "fuzz_input.hpp"
#include "policy/request_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  proxy::check_message_body("application/json", input);
  using boost::beast::http::verb;
  auto kind = proxy::classify(verb::get, input, size % 2 == 0);
  auto path = input.substr(0, input.find('?'));
  if (proxy::canonical_path(path)) {
    fuzz::require(path.front() == '/');
    fuzz::require(path.find("//") == std::string_view::npos);
    fuzz::require(path.find('%') == std::string_view::npos);
    fuzz::require(path.find("/../") == std::string_view::npos &&
                  path.find("/./") == std::string_view::npos);
    fuzz::require(path.size() < 3 || path.substr(path.size() - 3) != "/..");
  } else {
    // Only "/" (answered by the proxy itself, never relayed) is a route without being canonical.
    fuzz::require(kind == proxy::route::not_found || (path == "/" && kind == proxy::route::root));
  }
  auto echoed = proxy::utf8_prefix(input, 200);
  fuzz::require(echoed.size() <= 200 && proxy::valid_utf8(echoed));
  return 0;
}
