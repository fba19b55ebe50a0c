#pragma once
// The client side of one HTTP/1.1 connection, as the rest of the proxy sees it: the stream to
// write the response to, the read buffer (pipelined bytes must not be lost), and how a session
// gets work done on it: it submits work (a relay, a response) that the connection's own
// coroutine runs, then hands the connection back to the server's read loop.
#include "io/deadline.hpp"
#include "io/net.hpp"
#include "policy/api_error.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace proxy {

/// A request body the server left on the connection for the relay to stream upstream as it
/// arrives (policy/request_check.hpp: body_mode::streamed).
struct streamed_body {
  bool chunked = false;
  std::uint64_t length = 0;               ///< without chunked framing
  std::uint64_t limit = 0;                ///< the most body bytes accepted (413 beyond)
  std::chrono::seconds idle_timeout{120}; ///< the longest wait for the client's next bytes
};

/// Work a session asks the connection's coroutine to do (actors never touch sockets). It runs on
/// the connection's thread, between reading one request and the next.
using client_work = std::function<task<>()>;

class client_link : public std::enable_shared_from_this<client_link> {
public:
  client_link(tcp::socket socket, std::size_t worker);

  tcp::socket &socket() { return socket_; }
  beast::flat_buffer &buffer() { return buffer_; }
  net::any_io_executor executor() { return socket_.get_executor(); }
  std::size_t worker() const { return worker_; }

  /// Input. One read is always pending on the socket from start_reading() on: a client that
  /// leaves is noticed at once (even while a response streams), and the next request needs no
  /// new read. What arrives is appended to buffer(); reading pauses while buffer() holds
  /// `max_buffered` bytes and resumes after consumed().
  void start_reading(std::size_t max_buffered);
  /// Call after taking bytes out of buffer().
  void consumed();
  /// buffer() holds `max_buffered` bytes: reading waits until some are consumed.
  bool buffer_full() const { return buffer_.size() >= max_buffered_; }
  /// Waits until more bytes arrived, or the input ended (then why: eof, an error, or
  /// beast::error::timeout once `deadline` passed).
  task<error_code> wait_input(steady_clock::time_point deadline);
  /// The input ended: the client closed its side, the connection broke, or it timed out.
  bool input_ended() const { return input_ended_; }
  /// Runs `f` (once) when the input ends, until cleared with an empty function. A relay uses it:
  /// a client that leaves closes the upstream connection.
  void on_input_end(std::function<void()> f);
  /// Closes the socket: whatever waits on it ends.
  void close();
  /// The proxy is shutting down and will not wait for this request any longer: the work in
  /// progress ends (the on_input_end() hook runs, so a relay's upstream closes) and says so to
  /// the client as an error.
  void cut_off();
  bool is_cut_off() const { return cut_off_; }

  /// Facts of the request being served.
  unsigned version = 11;
  bool keep_alive = true;
  bool response_started = false; ///< bytes of a response went out: no error response possible
  /// Part of the request's body is still to be read (a streamed body): a response written now
  /// ends the connection, since what follows cannot be parsed as the next request.
  bool body_unread = false;
  std::chrono::seconds write_timeout{60};

  /// Sends `buffers` completely. Tries once without waiting (the usual case: the kernel takes it
  /// all, nothing is copied); what is left is copied and written as the client reads it, within
  /// write_timeout. Returns false when the client is gone.
  task<bool> send(std::span<const net::const_buffer> buffers);

  /// send() in two parts, so the usual case costs no coroutine: send_now() never waits; when it
  /// says `rest_kept`, send_rest() writes what it kept.
  enum class sent { all, rest_kept, failed };
  sent send_now(std::span<const net::const_buffer> buffers);
  task<bool> send_rest();

  /// The request being served: a session finishes with it by this number, so one that finishes
  /// late cannot end the next request.
  std::uint64_t serial() const { return serial_; }

  /// Queues work for the connection's coroutine (from any thread). Submitted from the
  /// connection's own thread before the server waits for it (the usual case), it starts without
  /// a trip through the event loop.
  void submit(client_work work);
  /// The session is done with request `serial` on this connection (from any thread): the
  /// server reads the next request. Later calls for the same request change nothing.
  void finish(std::uint64_t serial);
  /// For the server's read loop: the next work, or none once the session finished.
  task<client_work> next_work();

private:
  void read_next();
  void on_read(error_code ec, std::size_t n);
  /// Runs `f` on the connection's thread: now when called there, else posted.
  template <class F> void on_own_thread(F f);
  /// Wakes next_work() or wait_input() if one waits.
  void wake();

  tcp::socket socket_;
  lazy_deadline deadline_;
  beast::flat_buffer buffer_;
  /// What the pending read reads into: the parsing buffer may be rearranged meanwhile, this not.
  std::array<char, 1024> incoming_;
  std::size_t max_buffered_ = 0;
  std::uint64_t received_ = 0; ///< bytes read so far: wait_input() waits for it to grow
  bool reading_ = false;       ///< a read is pending
  bool input_ended_ = false;
  bool cut_off_ = false;
  error_code input_error_;
  std::function<void()> on_input_end_;
  net::steady_timer wakeup_; ///< what next_work() and wait_input() wait on
  std::size_t worker_;
  std::string unsent_; ///< what send_now() could not write yet
  std::deque<client_work> work_;
  std::uint64_t serial_ = 1;
  bool finished_ = false;
  bool waiting_ = false;
};

/// Writes a complete response the proxy made itself. Returns false when the client is gone.
/// `extra_head` holds extra "name: value\r\n" lines.
task<bool> write_response(client_link &client, unsigned status, std::string_view body,
                          std::string_view content_type, std::string_view extra_head = {});

/// An Anthropic-shaped error response with a request-id header (and retry-after for 503/529).
task<bool> write_error(client_link &client, const api_error &err, std::string_view request_id);

} // namespace proxy
