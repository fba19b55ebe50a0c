// The chunked decoder over any bytes, cut anywhere: never reads out of bounds, never consumes
// more than it was given, and gives the same body however the input is cut.
#include "fuzz_input.hpp"
#include "policy/body_decoder.hpp"

#include <string>

namespace {

/// Decodes `input` delivered in `cuts`; the body, and whether the decoder finished or failed.
std::string decode(std::string_view input, const std::vector<std::string_view> &cuts, int &end) {
  proxy::body_decoder d(proxy::body_decoder::framing::chunked);
  std::string body, carry;
  for (auto piece : cuts) {
    carry.append(piece);
    auto step = d.decode(carry.data(), carry.size());
    fuzz::require(step.consumed <= carry.size() && step.data <= step.consumed);
    body.append(carry.data(), step.data);
    carry.erase(0, step.consumed);
    if (d.done() || d.failed())
      break;
    fuzz::require(carry.size() <= proxy::body_decoder::max_line + 2);
  }
  end = d.done() ? 1 : d.failed() ? 2 : 0;
  (void)input;
  return body;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  int end_cut = 0, end_whole = 0;
  auto cut = decode(input, fuzz::pieces(input), end_cut);
  auto whole = decode(input, {input.substr(input.empty() ? 0 : 1)}, end_whole);
  if (end_cut == 1 && end_whole == 1)
    fuzz::require(cut == whole);
  return 0;
}
