#include "policy/sse_framer.hpp"

#include "core/json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstdint>

namespace proxy {
namespace {

/// Position just past the last blank line (the end of the last complete event), or 0. Events
/// end with "\n\n" or "\r\n\r\n"; both end in "\n\n" or "\n\r\n".
std::size_t last_boundary(std::string_view s) {
  for (std::size_t i = s.size(); i >= 2; --i) {
    if (s[i - 1] != '\n')
      continue;
    if (s[i - 2] == '\n' || (i >= 3 && s[i - 2] == '\r' && s[i - 3] == '\n'))
      return i;
  }
  return 0;
}

/// The end of the first event in `s` (just past its blank line), or s.size().
std::size_t first_boundary(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] != '\n')
      continue;
    if (s[i - 1] == '\n' || (i >= 2 && s[i - 1] == '\r' && s[i - 2] == '\n'))
      return i + 1;
  }
  return s.size();
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

/// Picks the token counts out of `usage` (at the top, or inside `message` as message_start has
/// it) while the parser goes: no document is built for the one object wanted.
class usage_reader : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, usage_reader> {
public:
  explicit usage_reader(usage &u) : u_(u) {}

  bool Default() { return true; }
  bool Int(int v) { return count(v); }
  bool Uint(unsigned v) { return count(v); }
  bool Int64(std::int64_t v) { return count(v); }
  bool Uint64(std::uint64_t v) {
    return v <= static_cast<std::uint64_t>(INT64_MAX) ? count(static_cast<std::int64_t>(v)) : true;
  }
  bool Key(const char *s, rapidjson::SizeType n, bool) {
    std::string_view key(s, n);
    if (depth_ == 1)
      top_key_ = key == "usage" ? top::usage : key == "message" ? top::message : top::other;
    else if (depth_ == 2 && top_key_ == top::message)
      in_message_usage_key_ = key == "usage";
    field_ = nullptr;
    if (in_usage())
      field_ = key == "input_tokens"                  ? &u_.input_tokens
               : key == "output_tokens"               ? &u_.output_tokens
               : key == "cache_read_input_tokens"     ? &u_.cache_read_input_tokens
               : key == "cache_creation_input_tokens" ? &u_.cache_creation_input_tokens
               // The OpenAI-compatible chat completions' names for the same counts.
               : key == "prompt_tokens"     ? &u_.input_tokens
               : key == "completion_tokens" ? &u_.output_tokens
                                            : nullptr;
    return true;
  }
  bool StartObject() {
    ++depth_;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    field_ = nullptr;
    return true;
  }
  bool StartArray() {
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }

private:
  enum class top { other, usage, message };
  bool in_usage() const {
    return (depth_ == 2 && top_key_ == top::usage) ||
           (depth_ == 3 && top_key_ == top::message && in_message_usage_key_);
  }
  bool count(std::int64_t v) {
    if (field_ && in_usage())
      *field_ = v;
    field_ = nullptr;
    return true;
  }
  usage &u_;
  int depth_ = 0;
  top top_key_ = top::other;
  bool in_message_usage_key_ = false;
  std::int64_t *field_ = nullptr;
};

/// Empties `s` and gives its memory back.
void free_string(std::string &s) {
  std::string().swap(s);
}

} // namespace

void read_usage_json(std::string_view json, usage &u) {
  // Counts go into a copy first: a body that turns out not to be JSON changes nothing.
  usage found = u;
  usage_reader reader_handler(found);
  rapidjson::Reader reader;
  rapidjson::MemoryStream in(json.data(), json.size());
  if (!reader.Parse<rapidjson::kParseIterativeFlag>(in, reader_handler).IsError())
    u = found;
}

upstream_error_fields error_of(std::string_view json) {
  upstream_error_fields out;
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return out;
  auto error = doc.FindMember("error");
  if (error == doc.MemberEnd() || !error->value.IsObject())
    return out;
  auto field = [&](const char *name) {
    auto m = error->value.FindMember(name);
    return m != error->value.MemberEnd() && m->value.IsString()
               ? std::string(m->value.GetString(), m->value.GetStringLength())
               : std::string{};
  };
  out.type = field("type");
  out.message = field("message");
  return out;
}

std::string_view sse_framer::feed(std::string_view bytes) {
  free_string(held_);
  std::string_view out;
  if (pending_.empty()) {
    // The usual case: whole events in one read. Hand out a view; keep only an unfinished tail.
    auto end = last_boundary(bytes);
    out = bytes.substr(0, end);
    pending_.assign(bytes.substr(end));
  } else {
    pending_.append(bytes);
    if (auto end = last_boundary(pending_); end > 0) {
      held_.assign(pending_, 0, end);
      pending_.erase(0, end);
      out = held_;
    }
  }
  observe_all(out);
  if (pending_.size() > max_pending_) {
    // Too big to hold: release it as it is and stop interpreting this one event.
    held_.assign(out);
    held_ += pending_;
    free_string(pending_);
    split_event_ = true;
    return held_;
  }
  if (pending_.empty())
    free_string(pending_);
  return out;
}

std::string_view sse_framer::flush() {
  flushed_ = true;
  return pending_;
}

void sse_framer::release() {
  free_string(held_);
  if (flushed_)
    free_string(pending_);
}

void sse_framer::observe_all(std::string_view complete) {
  std::size_t pos = 0;
  while (pos < complete.size()) {
    auto stop = pos + first_boundary(complete.substr(pos));
    // The first event may be the tail of an oversized event released in pieces.
    if (!split_event_)
      observe(complete.substr(pos, stop - pos));
    split_event_ = false;
    pos = stop;
  }
}

void sse_framer::observe(std::string_view event) {
  auto name = field_value(event, "event");
  auto data = field_value(event, "data");
  if (name.empty() && data.empty())
    return; // a comment or keep-alive line
  ++events_;
  if (name == "message_start" || name == "message_delta")
    read_usage_json(data, usage_);
  else if (name.empty() && data.find("\"usage\"") != std::string_view::npos)
    read_usage_json(data, usage_); // a chat completions chunk: the last may carry usage
  else if (name == "message_stop")
    saw_stop_ = true;
  if (name == "error") {
    saw_error_ = true;
    if (!content_started_ && error_type_of(data) == "overloaded_error")
      overloaded_first_ = true;
  } else if (name != "message_start" && name != "ping") {
    content_started_ = true;
  }
}

std::string sse_error_event(std::string_view type, std::string_view message) {
  auto data = write_public_json([&](json_writer &w) {
    w.StartObject();
    json_field(w, "type", "error");
    json_key(w, "error");
    w.StartObject();
    json_field(w, "type", type);
    json_field(w, "message", message);
    w.EndObject();
    w.EndObject();
  });
  return "event: error\ndata: " + data + "\n\n";
}

} // namespace proxy
