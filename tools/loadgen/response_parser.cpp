#include "response_parser.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cstring>

namespace loadgen {
namespace {

using proxy::for_each_token;
using proxy::iequals;
using proxy::trim;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

} // namespace

// ---- sse_counter ----

sse_counter::sse_counter(sse_observer *observer) : observer_(observer) {
  name_.reserve(k_max_name);
}

void sse_counter::reset() {
  line_ = line_state::start;
  after_cr_ = false;
  has_fields_ = false;
  skip_space_ = false;
  field_len_ = 0;
  name_.clear();
  name_set_ = false;
  events_ = 0;
  saw_error_ = false;
  last_was_stop_ = false;
}

bool sse_counter::field_is_event() const {
  return field_len_ == 5 && std::memcmp(field_, "event", 5) == 0;
}

void sse_counter::feed(std::string_view bytes, clock::time_point now) {
  const char *p = bytes.data();
  const char *const end = p + bytes.size();
  while (p < end) {
    const char c = *p++;
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n')
        continue;
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      end_line(now);
      continue;
    }
    switch (line_) {
    case line_state::start:
      if (c == ':') { // a comment
        line_ = line_state::skip;
        break;
      }
      has_fields_ = true;
      line_ = line_state::field;
      field_len_ = 0;
      [[fallthrough]];
    case line_state::field:
      if (c == ':') {
        if (field_is_event()) {
          line_ = line_state::event_value;
          name_.clear();
          name_set_ = true;
          skip_space_ = true;
        } else {
          line_ = line_state::skip;
        }
      } else if (field_len_ < sizeof field_) {
        field_[field_len_++] = c;
      } else {
        field_len_ = sizeof field_ + 1;
      }
      break;
    case line_state::event_value:
      if (skip_space_) {
        skip_space_ = false;
        if (c == ' ')
          break;
      }
      if (name_.size() < k_max_name)
        name_.push_back(c);
      break;
    case line_state::skip:
      // Most bytes are data payload: jump to the end of the line.
      while (p < end && *p != '\n' && *p != '\r')
        ++p;
      break;
    }
  }
}

void sse_counter::end_line(clock::time_point now) {
  switch (line_) {
  case line_state::start: // a blank line ends the event
    if (has_fields_)
      dispatch(now);
    has_fields_ = false;
    name_.clear();
    name_set_ = false;
    break;
  case line_state::field: // a field name without a colon has an empty value
    if (field_is_event()) {
      name_.clear();
      name_set_ = true;
    }
    break;
  case line_state::event_value:
  case line_state::skip:
    break;
  }
  line_ = line_state::start;
}

void sse_counter::dispatch(clock::time_point now) {
  const std::string_view name = name_set_ && !name_.empty() ? std::string_view(name_) : "message";
  ++events_;
  if (name == "error")
    saw_error_ = true;
  last_was_stop_ = name == "message_stop";
  if (observer_)
    observer_->on_event(name, now);
}

// ---- response_parser ----

response_parser::response_parser(sse_observer *observer) : sse_(observer) {}

void response_parser::reset() {
  sse_.reset();
  phase_ = phase::status_line;
  line_.clear();
  remaining_ = 0;
  error_ = "";
  started_ = false;
  reset_head();
}

void response_parser::reset_head() {
  head_bytes_ = 0;
  headers_done_ = false;
  status_code_ = 0;
  minor_version_ = 1;
  keep_alive_ = true;
  event_stream_ = false;
  chunked_ = false;
  has_transfer_encoding_ = false;
  has_length_ = false;
  length_ = 0;
  connection_close_ = false;
  connection_keep_alive_ = false;
}

bool response_parser::stream_completed() const {
  return phase_ == phase::done && event_stream_ && status_code_ >= 200 && status_code_ < 300 &&
         sse_.last_was_message_stop() && !sse_.saw_error_event();
}

void response_parser::fail(const char *why) {
  phase_ = phase::failed;
  error_ = why;
}

bool response_parser::in_line_phase() const {
  switch (phase_) {
  case phase::status_line:
  case phase::header_line:
  case phase::chunk_size_line:
  case phase::chunk_data_end:
  case phase::trailer_line:
    return true;
  default:
    return false;
  }
}

// Takes the next whole line (without its CRLF or LF). A line split across feeds is kept in
// line_; otherwise the line is a view into the input, so nothing is copied.
bool response_parser::take_line(std::string_view bytes, std::size_t &pos, std::string_view &line) {
  const bool head =
      phase_ == phase::status_line || phase_ == phase::header_line || phase_ == phase::trailer_line;
  const std::size_t used = head ? head_bytes_ : 0;
  const std::size_t limit = head ? k_max_head : k_max_chunk_line;
  const std::string_view rest = bytes.substr(pos);
  const std::size_t nl = rest.find('\n');
  const std::size_t piece = nl == std::string_view::npos ? rest.size() : nl;
  if (used + line_.size() + piece >= limit) {
    fail(head ? "response head too large" : "chunk size line too long");
    return false;
  }
  if (nl == std::string_view::npos) {
    line_.append(rest);
    pos = bytes.size();
    return false;
  }
  if (line_.empty()) {
    line = rest.substr(0, nl);
  } else {
    line_.append(rest.substr(0, nl));
    line = line_;
  }
  pos += nl + 1;
  if (head)
    head_bytes_ += line.size() + 1;
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return true;
}

response_parser::result response_parser::feed(std::string_view bytes, clock::time_point now) {
  if (!bytes.empty())
    started_ = true;
  std::size_t pos = 0;
  for (;;) {
    if (phase_ == phase::done)
      return {status::done, pos};
    if (phase_ == phase::failed)
      return {status::error, pos};
    if (pos == bytes.size())
      return {status::need_more, pos};

    if (in_line_phase()) {
      std::string_view line;
      if (!take_line(bytes, pos, line))
        continue; // needs more bytes, or failed
      on_line(line);
      line_.clear();
      continue;
    }
    switch (phase_) {
    case phase::body_length:
    case phase::chunk_data: {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size() - pos));
      on_body(bytes.substr(pos, n), now);
      pos += n;
      remaining_ -= n;
      if (remaining_ == 0)
        phase_ = phase_ == phase::body_length ? phase::done : phase::chunk_data_end;
      break;
    }
    case phase::body_until_close:
      on_body(bytes.substr(pos), now);
      pos = bytes.size();
      break;
    default:
      break;
    }
  }
}

response_parser::status response_parser::finish() {
  if (phase_ == phase::body_until_close)
    phase_ = phase::done;
  if (phase_ == phase::done)
    return status::done;
  if (phase_ != phase::failed)
    fail("connection closed before the end of the response");
  return status::error;
}

void response_parser::on_line(std::string_view line) {
  switch (phase_) {
  case phase::status_line:
    on_status_line(line);
    break;
  case phase::header_line:
    on_header_line(line);
    break;
  case phase::chunk_size_line:
    on_chunk_size_line(line);
    break;
  case phase::chunk_data_end:
    if (!line.empty())
      fail("chunk data longer than its size");
    else
      phase_ = phase::chunk_size_line;
    break;
  case phase::trailer_line:
    if (line.empty())
      phase_ = phase::done; // trailer fields themselves are not needed
    break;
  default:
    break;
  }
}

// "HTTP/1.1 200 OK"; the reason phrase may be empty or missing.
void response_parser::on_status_line(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) || line[8] != ' ' ||
      !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
      (line.size() > 12 && line[12] != ' ')) {
    fail("malformed status line");
    return;
  }
  minor_version_ = line[7] - '0';
  status_code_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status_code_ < 100) {
    fail("malformed status line");
    return;
  }
  phase_ = phase::header_line;
}

void response_parser::on_header_line(std::string_view line) {
  if (line.empty()) {
    on_headers_end();
    return;
  }
  if (line.front() == ' ' || line.front() == '\t')
    return; // obsolete line folding: continues a header none of ours needs
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    fail("malformed header line");
    return;
  }
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));

  if (iequals(name, "content-length")) {
    if (value.empty() || value.size() > 18) {
      fail("invalid Content-Length");
      return;
    }
    std::uint64_t n = 0;
    for (char c : value) {
      if (!is_digit(c)) {
        fail("invalid Content-Length");
        return;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (has_length_ && n != length_) {
      fail("conflicting Content-Length headers");
      return;
    }
    has_length_ = true;
    length_ = n;
  } else if (iequals(name, "transfer-encoding")) {
    // Only the last coding decides whether the body is chunked.
    has_transfer_encoding_ = true;
    for_each_token(value, [&](std::string_view coding) { chunked_ = iequals(coding, "chunked"); });
  } else if (iequals(name, "content-type")) {
    event_stream_ = iequals(trim(value.substr(0, value.find(';'))), "text/event-stream");
  } else if (iequals(name, "connection")) {
    for_each_token(value, [&](std::string_view option) {
      if (iequals(option, "close"))
        connection_close_ = true;
      else if (iequals(option, "keep-alive"))
        connection_keep_alive_ = true;
    });
  }
}

void response_parser::on_headers_end() {
  if (status_code_ < 200) {
    if (status_code_ == 101) {
      fail("unexpected 101 Switching Protocols");
      return;
    }
    // An interim response (100 Continue, 103 Early Hints): the real one follows.
    reset_head();
    phase_ = phase::status_line;
    return;
  }
  headers_done_ = true;
  keep_alive_ = !connection_close_ && (minor_version_ >= 1 || connection_keep_alive_);
  if (status_code_ == 204 || status_code_ == 304) {
    chunked_ = false;
    phase_ = phase::done;
  } else if (has_transfer_encoding_) {
    if (chunked_) {
      phase_ = phase::chunk_size_line;
    } else {
      phase_ = phase::body_until_close;
      keep_alive_ = false;
    }
  } else if (has_length_) {
    remaining_ = length_;
    phase_ = remaining_ > 0 ? phase::body_length : phase::done;
  } else {
    phase_ = phase::body_until_close;
    keep_alive_ = false;
  }
}

// "1a2b" [BWS] [";" extensions]
void response_parser::on_chunk_size_line(std::string_view line) {
  std::uint64_t size = 0;
  std::size_t i = 0;
  for (; i < line.size(); ++i) {
    const int v = proxy::hex_digit(line[i]);
    if (v < 0)
      break;
    if (i >= 15) {
      fail("chunk size too large");
      return;
    }
    size = size * 16 + static_cast<std::uint64_t>(v);
  }
  if (i == 0) {
    fail("malformed chunk size");
    return;
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
    ++i;
  if (i < line.size() && line[i] != ';') {
    fail("malformed chunk size");
    return;
  }
  if (size == 0) {
    phase_ = phase::trailer_line;
    head_bytes_ = 0; // trailers get their own allowance
  } else {
    remaining_ = size;
    phase_ = phase::chunk_data;
  }
}

void response_parser::on_body(std::string_view bytes, clock::time_point now) {
  if (event_stream_)
    sse_.feed(bytes, now);
}

} // namespace loadgen
