#pragma once
// Incremental HTTP/1.1 response parser for loadgen, with an SSE event counter for
// text/event-stream bodies. Pure (no sockets), so it is unit-tested byte by byte. Beast's parser
// is too slow for the hot path; this one keeps only what the statistics need and reuses its
// buffers from one response to the next.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loadgen {

using clock = std::chrono::steady_clock;

// Told about every SSE event as it completes.
class sse_observer {
public:
  // name: the `event:` field, or "message" when the event has none (as in the SSE spec).
  virtual void on_event(std::string_view name, clock::time_point at) = 0;

protected:
  ~sse_observer() = default;
};

// Counts the events of an SSE byte stream. An event ends at a blank line; lines may end in
// CRLF, LF or CR. Comment lines (starting with ':') are skipped and an event made only of
// comments is not counted. An unterminated last event is not counted either.
class sse_counter {
public:
  explicit sse_counter(sse_observer *observer = nullptr);
  void reset();
  void feed(std::string_view bytes, clock::time_point now);

  std::uint64_t events() const { return events_; }
  bool saw_error_event() const { return saw_error_; }
  bool last_was_message_stop() const { return last_was_stop_; }

private:
  enum class line_state { start, field, event_value, skip };
  void end_line(clock::time_point now);
  void dispatch(clock::time_point now);
  bool field_is_event() const;

  static constexpr std::size_t k_max_name = 64; // longer names are truncated

  sse_observer *observer_;
  line_state line_ = line_state::start;
  bool after_cr_ = false;     // a CR ended the last line; an LF right after belongs to it
  bool has_fields_ = false;   // the event has a non-comment line
  bool skip_space_ = false;   // drop one space after "event:"
  char field_[5] = {};        // the field name, as far as it can still be "event"
  std::size_t field_len_ = 0; // 6 = longer than "event"
  std::string name_;          // the current event's name; capacity kept
  bool name_set_ = false;
  std::uint64_t events_ = 0;
  bool saw_error_ = false;
  bool last_was_stop_ = false;
};

class response_parser {
public:
  enum class status { need_more, done, error };
  struct result {
    status state;
    std::size_t consumed; // bytes of the input used; less than its size only when done/error
  };

  explicit response_parser(sse_observer *observer = nullptr);

  // Ready for the next response; keeps the buffers' capacity.
  void reset();
  // Adds bytes received at `now`.
  result feed(std::string_view bytes, clock::time_point now);
  // The peer closed the connection: done for a body delimited by the close, otherwise error.
  status finish();

  bool started() const { return started_; }           // any byte seen
  bool headers_done() const { return headers_done_; } // final (non-1xx) headers parsed
  int status_code() const { return status_code_; }
  bool keep_alive() const { return keep_alive_; } // valid once headers_done()
  bool event_stream() const { return event_stream_; }
  bool chunked() const { return chunked_; }
  const char *error_message() const { return error_; } // why feed()/finish() failed

  std::uint64_t events() const { return sse_.events(); }
  bool saw_error_event() const { return sse_.saw_error_event(); }
  bool last_event_was_message_stop() const { return sse_.last_was_message_stop(); }
  // A 2xx event stream that ended properly, whose last event was message_stop, with no error
  // event.
  bool stream_completed() const;

private:
  enum class phase {
    status_line,
    header_line,
    body_length,
    chunk_size_line,
    chunk_data,
    chunk_data_end,
    trailer_line,
    body_until_close,
    done,
    failed
  };

  bool in_line_phase() const;
  bool take_line(std::string_view bytes, std::size_t &pos, std::string_view &line);
  void on_line(std::string_view line);
  void on_status_line(std::string_view line);
  void on_header_line(std::string_view line);
  void on_headers_end();
  void on_chunk_size_line(std::string_view line);
  void on_body(std::string_view bytes, clock::time_point now);
  void fail(const char *why);
  void reset_head();

  static constexpr std::size_t k_max_head = 128 * 1024; // status line + headers, or trailers
  static constexpr std::size_t k_max_chunk_line = 4096; // chunk size line with extensions

  sse_counter sse_;
  phase phase_ = phase::status_line;
  std::string line_; // a line split across feeds; capacity kept
  std::size_t head_bytes_ = 0;
  std::uint64_t remaining_ = 0; // of the body (Content-Length) or of the current chunk
  const char *error_ = "";

  bool started_ = false;
  bool headers_done_ = false;
  int status_code_ = 0;
  int minor_version_ = 1;
  bool keep_alive_ = true;
  bool event_stream_ = false;
  bool chunked_ = false;
  bool has_transfer_encoding_ = false;
  bool has_length_ = false;
  std::uint64_t length_ = 0;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
};

} // namespace loadgen
