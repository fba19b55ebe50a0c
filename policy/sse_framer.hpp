#pragma once
// Splits a Server-Sent Events byte stream into whole events without changing a byte, and
// watches the events that carry usage so the proxy can log token counts. It copies only the
// bytes of an event that is not complete yet, and frees them once released, so an idle stream
// holds no buffer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace proxy {

/// Token counts reported by the upstream (message_start, then cumulative message_delta).
struct usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_read_input_tokens = 0;
  std::int64_t cache_creation_input_tokens = 0;
};

/// error.type and error.message of an Anthropic error body; empty when it is not one.
struct upstream_error_fields {
  std::string type, message;
};
upstream_error_fields error_of(std::string_view json);
inline std::string error_type_of(std::string_view json) {
  return error_of(json).type;
}

/// Reads usage from a message object or from a message_delta's `usage`; fields absent stay as
/// they were. Used for non-stream bodies as well.
void read_usage_json(std::string_view json, usage &u);

class sse_framer {
public:
  /// `max_pending`: an event larger than this is released in pieces rather than held, so a
  /// single stream never buffers more than this many bytes.
  explicit sse_framer(std::size_t max_pending = 256 * 1024) : max_pending_(max_pending) {}

  /// Adds body bytes and returns the bytes of every event now complete (possibly empty). The
  /// result is either a prefix of `bytes` or held by the framer; it stays valid until the next
  /// call or release(), and as long as `bytes` does.
  std::string_view feed(std::string_view bytes);

  /// Bytes held back at the end of the stream (an unterminated last event), released as they
  /// are. Valid until release(); what the last feed() returned stays valid too.
  std::string_view flush();

  /// The caller is done with what feed() or flush() returned: free it.
  void release();

  /// True when the client has seen part of an event but not its end (an oversized event).
  bool mid_event() const { return split_event_; }
  const proxy::usage &usage() const { return usage_; }
  bool saw_message_stop() const { return saw_stop_; }
  bool saw_error_event() const { return saw_error_; }
  /// An event other than message_start, ping or error went by: the answer has begun.
  bool content_started() const { return content_started_; }
  /// An `error` event of type overloaded_error came before any content: the attempt failed
  /// before it produced anything, so it may be retried if the client has seen nothing.
  bool overloaded_before_content() const { return overloaded_first_; }
  std::size_t events() const { return events_; }
  /// Bytes held for an unfinished event.
  std::size_t pending() const { return pending_.size(); }

private:
  void observe_all(std::string_view complete);
  void observe(std::string_view event);

  std::size_t max_pending_;
  std::string pending_; ///< bytes of the event still incomplete
  std::string held_;    ///< bytes handed out by the last call, when they could not be a view
  bool split_event_ = false;
  bool flushed_ = false;
  proxy::usage usage_;
  bool saw_stop_ = false;
  bool saw_error_ = false;
  bool content_started_ = false;
  bool overloaded_first_ = false;
  std::size_t events_ = 0;
};

/// The bytes of an `error` event, for a stream the upstream broke off.
std::string sse_error_event(std::string_view type, std::string_view message);

} // namespace proxy
