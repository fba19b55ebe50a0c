#pragma once
// The deadline of the one wait a connection has at a time. Moving it later costs nothing: the
// timer is armed only when the deadline moves earlier than where it is armed, and re-arms itself
// when it fires early. So a deadline can be set before every read of a stream without a timer
// operation (and often a system call) each time. When it passes, the socket's waits are
// cancelled and expired() says why.
#include "io/net.hpp"

#include <memory>

namespace proxy {

class lazy_deadline {
public:
  /// `socket`: whose waits a passed deadline cancels.
  explicit lazy_deadline(tcp::socket &socket);

  /// The current wait ends at `at` (and has not expired yet). `owner` holds this deadline and its
  /// socket; the timer keeps it only weakly (firing after it went away does nothing).
  void set(steady_clock::time_point at, const std::weak_ptr<void> &owner);
  /// No wait is in progress.
  void clear() { deadline_ = steady_clock::time_point::max(); }
  /// The last wait ended because its deadline passed.
  bool expired() const { return expired_; }
  /// Stops the timer (the connection closes).
  void cancel();

private:
  void arm(steady_clock::time_point at, std::weak_ptr<void> owner);
  void fired(std::weak_ptr<void> owner);

  tcp::socket &socket_;
  net::steady_timer timer_;
  steady_clock::time_point deadline_ = steady_clock::time_point::max();
  steady_clock::time_point armed_at_ = steady_clock::time_point::max();
  bool expired_ = false;
};

} // namespace proxy
