#include "http/sse_framer.hpp"

#include "http/api_error.hpp"

#include <rapidjson/document.h>

namespace proxy {
namespace {

/// Position just past the last blank line (the end of the last complete event), or 0.
std::size_t last_boundary(std::string_view s) {
  for (std::size_t i = s.size(); i >= 2; --i) {
    if (s[i - 1] == '\n' && s[i - 2] == '\n')
      return i;
    if (i >= 4 && s.substr(i - 4, 4) == "\r\n\r\n")
      return i;
  }
  return 0;
}

/// The value of the first `field:` line of one event, without the optional leading space.
std::string_view field_value(std::string_view event, std::string_view field) {
  std::size_t pos = 0;
  while (pos < event.size()) {
    auto eol = event.find('\n', pos);
    auto line = event.substr(pos, eol == std::string_view::npos ? event.size() - pos : eol - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.size() > field.size() && line.substr(0, field.size()) == field &&
        line[field.size()] == ':') {
      auto value = line.substr(field.size() + 1);
      if (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      return value;
    }
    if (eol == std::string_view::npos)
      break;
    pos = eol + 1;
  }
  return {};
}

void read_counts(const rapidjson::Value &obj, usage &u) {
  auto get = [&](const char *name, std::int64_t &into) {
    auto it = obj.FindMember(name);
    if (it != obj.MemberEnd() && it->value.IsInt64())
      into = it->value.GetInt64();
  };
  get("input_tokens", u.input_tokens);
  get("output_tokens", u.output_tokens);
  get("cache_read_input_tokens", u.cache_read_input_tokens);
  get("cache_creation_input_tokens", u.cache_creation_input_tokens);
}

} // namespace

void read_usage_json(std::string_view json, usage &u) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return;
  // message_start nests the message; message_delta and a non-stream message carry usage directly.
  const rapidjson::Value *holder = &doc;
  if (auto m = doc.FindMember("message"); m != doc.MemberEnd() && m->value.IsObject())
    holder = &m->value;
  if (auto it = holder->FindMember("usage"); it != holder->MemberEnd() && it->value.IsObject())
    read_counts(it->value, u);
}

std::string_view sse_framer::feed(std::string_view bytes) {
  ready_.clear();
  pending_.append(bytes.data(), bytes.size());
  auto end = last_boundary(pending_);
  if (end > 0) {
    ready_.assign(pending_, 0, end);
    pending_.erase(0, end);
    // Observe each complete event; the first may be the tail of an event released in pieces.
    std::string_view all = ready_;
    std::size_t pos = 0;
    while (pos < all.size()) {
      // Events end with a blank line: "\n\n" or "\r\n\r\n".
      auto lf = all.find("\n\n", pos);
      auto crlf = all.find("\n\r\n", pos);
      auto stop = lf < crlf ? lf + 2 : crlf == std::string_view::npos ? all.size() : crlf + 3;
      if (!split_event_)
        observe(all.substr(pos, stop - pos));
      split_event_ = false;
      pos = stop;
    }
  }
  if (pending_.size() > max_pending_) {
    // Too big to hold: release it as it is and stop interpreting this one event.
    ready_ += pending_;
    pending_.clear();
    split_event_ = true;
  }
  return ready_;
}

std::string_view sse_framer::flush() {
  ready_.swap(pending_);
  pending_.clear();
  return ready_;
}

void sse_framer::observe(std::string_view event) {
  auto name = field_value(event, "event");
  auto data = field_value(event, "data");
  if (name.empty() && data.empty())
    return; // a comment or keep-alive line
  ++events_;
  if (name == "message_start" || name == "message_delta")
    read_usage_json(data, usage_);
  else if (name == "message_stop")
    saw_stop_ = true;
  else if (name == "error")
    saw_error_ = true;
}

std::string sse_error_event(std::string_view type, std::string_view message) {
  std::string out = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"";
  out += json_escape(type);
  out += "\",\"message\":\"";
  out += json_escape(message);
  out += "\"}}\n\n";
  return out;
}

} // namespace proxy
