#include "io/deadline.hpp"

namespace proxy {

lazy_deadline::lazy_deadline(tcp::socket &socket)
    : socket_(socket), timer_(socket.get_executor()) {}

void lazy_deadline::set(steady_clock::time_point at, const std::weak_ptr<void> &owner) {
  deadline_ = at;
  expired_ = false;
  if (at < armed_at_)
    arm(at, owner);
}

void lazy_deadline::arm(steady_clock::time_point at, std::weak_ptr<void> owner) {
  armed_at_ = at;
  timer_.expires_at(at);
  timer_.async_wait([this, owner = std::move(owner)](error_code ec) {
    if (ec == net::error::operation_aborted)
      return;
    if (auto alive = owner.lock())
      fired(owner);
  });
}

void lazy_deadline::fired(std::weak_ptr<void> owner) {
  armed_at_ = steady_clock::time_point::max();
  if (deadline_ == steady_clock::time_point::max())
    return; // nothing is waiting
  if (steady_clock::now() < deadline_) {
    arm(deadline_, std::move(owner));
    return;
  }
  expired_ = true;
  error_code ignored;
  socket_.cancel(ignored);
}

void lazy_deadline::cancel() {
  timer_.cancel();
  armed_at_ = steady_clock::time_point::max();
  deadline_ = steady_clock::time_point::max();
}

} // namespace proxy
