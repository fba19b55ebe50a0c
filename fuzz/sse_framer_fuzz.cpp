// The SSE framer must pass every byte on unchanged, in order, however the stream is cut.
#include "fuzz_input.hpp"
#include "policy/sse_framer.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  proxy::sse_framer framer(1024); // small, so oversized events are exercised too
  std::string out, expected;
  for (auto piece : fuzz::pieces(input)) {
    expected.append(piece);
    std::string copy(piece); // feed() may return a view of its argument
    out.append(framer.feed(copy));
    framer.release();
    fuzz::require(framer.pending() <= 1024 + piece.size());
  }
  out.append(framer.flush());
  framer.release();
  fuzz::require(out == expected);
  proxy::usage u;
  proxy::read_usage_json(input, u);
  return 0;
}
