#pragma once
// CAF's clock (request timeouts, receive timeouts, delayed messages) without a thread of its
// own: the schedule sits behind a mutex and one Asio timer on a network thread fires it. Adding
// a deadline later than the earliest one (every request timeout, in practice) wakes no thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/detail/simple_actor_clock.hpp>

#include <mutex>
#include <optional>

namespace proxy {

class io_clock final : public caf::detail::simple_actor_clock {
public:
  /// `driver`: the io_context whose thread runs the timer.
  explicit io_clock(boost::asio::io_context &driver);

  void set_ordinary_timeout(time_point t, caf::abstract_actor *self, caf::atom_value type,
                            uint64_t id) override;
  void set_multi_timeout(time_point t, caf::abstract_actor *self, caf::atom_value type,
                         uint64_t id) override;
  void set_request_timeout(time_point t, caf::abstract_actor *self, caf::message_id id) override;
  void cancel_ordinary_timeout(caf::abstract_actor *self, caf::atom_value type) override;
  void cancel_request_timeout(caf::abstract_actor *self, caf::message_id id) override;
  void cancel_timeouts(caf::abstract_actor *self) override;
  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override;
  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                        caf::message content) override;
  void cancel_all() override;

  /// Timeouts waiting to fire (for tests).
  std::size_t pending();

  /// Drops every entry and the timer; must run once the driver's thread has stopped, before the
  /// driver is destroyed. Actors ending later may still cancel (nothing) here.
  void stop();

private:
  template <class F> void change(F &&f);
  void arm_locked();
  void on_timer();

  std::mutex mutex_;
  boost::asio::io_context &driver_;
  std::optional<boost::asio::steady_timer> timer_;
  bool stopped_ = false;
  time_point armed_at_ = time_point::max(); ///< when the timer fires; max: not armed
};

} // namespace proxy
