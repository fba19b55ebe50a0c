#include "actors/io_clock.hpp"

#include <boost/asio/post.hpp>

#include <vector>

namespace proxy {

io_clock::io_clock(boost::asio::io_context &driver)
    : driver_(driver), timer_(std::in_place, driver) {}

void io_clock::stop() {
  schedule_map dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    actor_lookup_.clear();
    dropped.swap(schedule_);
  }
  timer_.reset();
}

template <class F> void io_clock::change(F &&f) {
  // Only the actor itself changes its entries, and it is alive while it runs: no entry dropped
  // here holds the last reference to an actor.
  std::lock_guard<std::mutex> lock(mutex_);
  f();
  arm_locked();
}

void io_clock::arm_locked() {
  if (stopped_ || schedule_.empty())
    return; // an armed timer finds nothing and stops; cheaper than cancelling it now
  auto earliest = schedule_.begin()->first;
  if (earliest >= armed_at_)
    return;
  armed_at_ = earliest;
  // The timer belongs to the driver's thread: move it from there.
  boost::asio::post(driver_, [this, earliest] {
    timer_->expires_at(earliest);
    timer_->async_wait([this](boost::system::error_code ec) {
      if (!ec)
        on_timer();
    });
  });
}

void io_clock::on_timer() {
  std::vector<unique_delayed_event_ptr> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_at_ = time_point::max();
    auto t = now();
    for (auto i = schedule_.begin(); i != schedule_.end() && i->first <= t;) {
      if (i->second->backlink != actor_lookup_.end())
        actor_lookup_.erase(i->second->backlink);
      due.push_back(std::move(i->second));
      i = schedule_.erase(i);
    }
    arm_locked();
  }
  // Delivered outside the lock: a delivery may end an actor, which cancels its timeouts here.
  for (auto &event : due)
    ship(*event);
}

void io_clock::set_ordinary_timeout(time_point t, caf::abstract_actor *self, caf::atom_value type,
                                    uint64_t id) {
  change([&] { simple_actor_clock::set_ordinary_timeout(t, self, type, id); });
}

void io_clock::set_multi_timeout(time_point t, caf::abstract_actor *self, caf::atom_value type,
                                 uint64_t id) {
  change([&] { simple_actor_clock::set_multi_timeout(t, self, type, id); });
}

void io_clock::set_request_timeout(time_point t, caf::abstract_actor *self, caf::message_id id) {
  change([&] { simple_actor_clock::set_request_timeout(t, self, id); });
}

void io_clock::cancel_ordinary_timeout(caf::abstract_actor *self, caf::atom_value type) {
  change([&] { simple_actor_clock::cancel_ordinary_timeout(self, type); });
}

void io_clock::cancel_request_timeout(caf::abstract_actor *self, caf::message_id id) {
  change([&] { simple_actor_clock::cancel_request_timeout(self, id); });
}

void io_clock::cancel_timeouts(caf::abstract_actor *self) {
  // Move this actor's entries out under the lock; destroy them (and their references) after.
  std::vector<unique_delayed_event_ptr> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto range = actor_lookup_.equal_range(self->id());
    for (auto i = range.first; i != range.second; ++i) {
      dropped.push_back(std::move(i->second->second));
      schedule_.erase(i->second);
    }
    actor_lookup_.erase(range.first, range.second);
  }
}

void io_clock::schedule_message(time_point t, caf::strong_actor_ptr receiver,
                                caf::mailbox_element_ptr content) {
  change([&] { simple_actor_clock::schedule_message(t, std::move(receiver), std::move(content)); });
}

void io_clock::schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                                caf::message content) {
  change([&] {
    simple_actor_clock::schedule_message(t, std::move(target), std::move(sender),
                                         std::move(content));
  });
}

void io_clock::cancel_all() {
  schedule_map dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    actor_lookup_.clear();
    dropped.swap(schedule_);
  }
}

std::size_t io_clock::pending() {
  std::lock_guard<std::mutex> lock(mutex_);
  return schedule_.size();
}

} // namespace proxy
