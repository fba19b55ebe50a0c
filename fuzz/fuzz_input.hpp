#pragma once
// Helpers for the fuzz targets: the input as text, and a deterministic way to cut it into the
// pieces a network would deliver.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace fuzz {

/// The input split at sizes taken from its first byte (a seed), as reads would split a stream.
inline std::vector<std::string_view> pieces(std::string_view input) {
  std::vector<std::string_view> out;
  if (input.empty())
    return out;
  unsigned seed = static_cast<unsigned char>(input.front());
  input.remove_prefix(1);
  while (!input.empty()) {
    seed = seed * 1103515245u + 12345u;
    std::size_t size = 1 + (seed >> 16) % 97;
    out.push_back(input.substr(0, size));
    input.remove_prefix(std::min(size, input.size()));
  }
  return out;
}

/// An invariant that must hold: a failure is a finding.
inline void require(bool holds) {
  if (!holds)
    std::abort();
}

} // namespace fuzz
