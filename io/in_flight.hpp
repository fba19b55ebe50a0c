#pragma once
// Requests in flight, counted per network thread so that counting writes no shared cache line.
#include <atomic>
#include <cstddef>
#include <vector>

namespace proxy {

class in_flight_counter {
public:
  explicit in_flight_counter(std::size_t workers) : counts_(workers) {}
  void add(std::size_t worker, int delta) {
    counts_[worker % counts_.size()].n.fetch_add(delta, std::memory_order_relaxed);
  }
  int total() const {
    int sum = 0;
    for (const auto &c : counts_)
      sum += c.n.load(std::memory_order_relaxed);
    return sum;
  }

private:
  struct alignas(64) padded {
    std::atomic<int> n{0};
  };
  std::vector<padded> counts_;
};

} // namespace proxy
