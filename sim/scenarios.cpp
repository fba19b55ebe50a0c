#include "sim/scenarios.hpp"

#include "core/text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sim {

using proxy::iequals;
using proxy::trim;
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Cycled to produce text of any length; ASCII only so a chunk never splits a character.
constexpr std::string_view k_sentence =
    "Hello from the upstream simulator. Every byte of this reply is deterministic, so two "
    "runs compare equal. ";

constexpr std::string_view k_tool_preamble[] = {"I'll look that ", "up with the tool."};
// Concatenates to {"location": "Paris", "unit": "celsius"}; the upstream starts with "".
constexpr std::string_view k_tool_input_pieces[] = {"", "{\"location\": ", "\"Paris\", \"un",
                                                    "it\": \"celsius\"}"};
constexpr std::string_view k_thinking_pieces[] = {
    "The user sent a short message. ", "A brief, friendly reply ", "is the right answer here."};

// Everything a response contains, decided once so streamed and non-streamed answers agree.
struct block_plan {
  enum class kind { text, tool_use, thinking };
  kind what = kind::text;
  std::vector<std::string> pieces; // text_delta / input_json_delta / thinking_delta payloads
  std::string signature;           // thinking only
  std::string tool_id, tool_name;  // tool_use only
  std::string joined() const {
    std::string out;
    for (const auto &p : pieces)
      out += p;
    return out;
  }
};

struct message_plan {
  std::vector<block_plan> blocks;
  std::string stop_reason;
  std::int64_t output_tokens = 1;
};

std::string cycled_text(std::size_t offset, std::size_t len) {
  std::string out;
  out.reserve(len);
  for (std::size_t i = 0; i < len; ++i)
    out.push_back(k_sentence[(offset + i) % k_sentence.size()]);
  return out;
}

// A long base64-looking signature; fixed so runs are byte-identical.
std::string fake_signature() {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "EqQBCkgIBxABGAIiQ";
  std::uint32_t state = 0x5eed1234u;
  while (out.size() < 344) {
    state = state * 1664525u + 1013904223u;
    out.push_back(alphabet[(state >> 24) & 63u]);
  }
  return out;
}

block_plan main_text_block(const scenario_params &p) {
  block_plan b;
  const int chunks = std::max(1, p.text_chunks);
  const std::size_t size = std::max<std::size_t>(1, p.chunk_size);
  for (int i = 0; i < chunks; ++i)
    b.pieces.push_back(cycled_text(static_cast<std::size_t>(i) * size, size));
  return b;
}

message_plan plan_for(const scenario_params &p) {
  message_plan m;
  switch (p.kind) {
  case scenario::text:
    m.blocks.push_back(main_text_block(p));
    m.stop_reason = "end_turn";
    break;
  case scenario::tool_use: {
    block_plan text;
    text.pieces.assign(std::begin(k_tool_preamble), std::end(k_tool_preamble));
    block_plan tool;
    tool.what = block_plan::kind::tool_use;
    tool.tool_id = "toolu_sim_1";
    tool.tool_name = p.tool_name.empty() ? "get_weather" : p.tool_name;
    tool.pieces.assign(std::begin(k_tool_input_pieces), std::end(k_tool_input_pieces));
    m.blocks = {std::move(text), std::move(tool)};
    m.stop_reason = "tool_use";
    break;
  }
  case scenario::thinking: {
    block_plan thinking;
    thinking.what = block_plan::kind::thinking;
    thinking.pieces.assign(std::begin(k_thinking_pieces), std::end(k_thinking_pieces));
    thinking.signature = fake_signature();
    m.blocks = {std::move(thinking), main_text_block(p)};
    m.stop_reason = "end_turn";
    break;
  }
  }
  std::size_t chars = 0;
  for (const auto &b : m.blocks)
    chars += b.joined().size();
  m.output_tokens = static_cast<std::int64_t>(chars / 4 + 1);
  return m;
}

void put(json_writer &w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void key(json_writer &w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

// Re-emits a JSON text through the writer (tool input arrives as a string of JSON).
void put_raw_json(json_writer &w, const std::string &text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
  if (doc.HasParseError()) {
    w.StartObject();
    w.EndObject();
    return;
  }
  doc.Accept(w);
}

void put_usage(json_writer &w, std::int64_t input_tokens, std::int64_t output_tokens) {
  key(w, "usage");
  w.StartObject();
  key(w, "input_tokens");
  w.Int64(input_tokens);
  key(w, "cache_creation_input_tokens");
  w.Int(0);
  key(w, "cache_read_input_tokens");
  w.Int(0);
  key(w, "output_tokens");
  w.Int64(output_tokens);
  w.EndObject();
}

// The block as it appears in a final message; streamed starts use empty payloads.
void put_block(json_writer &w, const block_plan &b, bool final_form) {
  w.StartObject();
  switch (b.what) {
  case block_plan::kind::text:
    key(w, "type");
    put(w, "text");
    key(w, "text");
    put(w, final_form ? b.joined() : std::string());
    break;
  case block_plan::kind::thinking:
    key(w, "type");
    put(w, "thinking");
    key(w, "thinking");
    put(w, final_form ? b.joined() : std::string());
    key(w, "signature");
    put(w, final_form ? b.signature : std::string());
    break;
  case block_plan::kind::tool_use:
    key(w, "type");
    put(w, "tool_use");
    key(w, "id");
    put(w, b.tool_id);
    key(w, "name");
    put(w, b.tool_name);
    key(w, "input");
    if (final_form) {
      put_raw_json(w, b.joined());
    } else {
      w.StartObject();
      w.EndObject();
    }
    break;
  }
  w.EndObject();
}

template <class Fn> sse_event make_event(std::string type, Fn &&body) {
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  w.StartObject();
  key(w, "type");
  put(w, type);
  body(w);
  w.EndObject();
  return sse_event{std::move(type), std::string(sb.GetString(), sb.GetSize())};
}

sse_event delta_event(std::size_t index, std::string_view delta_type, std::string_view field,
                      std::string_view value) {
  return make_event("content_block_delta", [&](json_writer &w) {
    key(w, "index");
    w.Uint64(index);
    key(w, "delta");
    w.StartObject();
    key(w, "type");
    put(w, delta_type);
    key(w, field);
    put(w, value);
    w.EndObject();
  });
}

template <class T> std::optional<T> parse_number(std::string_view s) {
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return std::nullopt;
  return value;
}

// The fields a streamed message_start and a whole message share.
void put_message_head(json_writer &w, const scenario_params &p) {
  key(w, "id");
  put(w, p.message_id);
  key(w, "type");
  put(w, "message");
  key(w, "role");
  put(w, "assistant");
  key(w, "model");
  put(w, p.model);
}

} // namespace

std::optional<scenario> parse_scenario(std::string_view name) {
  name = trim(name);
  if (iequals(name, "text"))
    return scenario::text;
  if (iequals(name, "tool_use"))
    return scenario::tool_use;
  if (iequals(name, "thinking"))
    return scenario::thinking;
  return std::nullopt;
}

std::string_view scenario_name(scenario s) {
  switch (s) {
  case scenario::text:
    return "text";
  case scenario::tool_use:
    return "tool_use";
  case scenario::thinking:
    return "thinking";
  }
  return "text";
}

std::string sse_event::wire() const {
  std::string out;
  out.reserve(type.size() + data.size() + 16);
  if (!type.empty())
    out.append("event: ").append(type).append("\n");
  out.append("data: ").append(data).append("\n\n");
  return out;
}

std::vector<sse_event> build_events(const scenario_params &p) {
  const message_plan m = plan_for(p);
  std::vector<sse_event> events;

  events.push_back(make_event("message_start", [&](json_writer &w) {
    key(w, "message");
    w.StartObject();
    put_message_head(w, p);
    key(w, "content");
    w.StartArray();
    w.EndArray();
    key(w, "stop_reason");
    w.Null();
    key(w, "stop_sequence");
    w.Null();
    put_usage(w, p.input_tokens, 1);
    w.EndObject();
  }));
  events.push_back(make_event("ping", [](json_writer &) {}));

  for (std::size_t i = 0; i < m.blocks.size(); ++i) {
    const block_plan &b = m.blocks[i];
    events.push_back(make_event("content_block_start", [&](json_writer &w) {
      key(w, "index");
      w.Uint64(i);
      key(w, "content_block");
      put_block(w, b, false);
    }));
    for (const auto &piece : b.pieces) {
      switch (b.what) {
      case block_plan::kind::text:
        events.push_back(delta_event(i, "text_delta", "text", piece));
        break;
      case block_plan::kind::thinking:
        events.push_back(delta_event(i, "thinking_delta", "thinking", piece));
        break;
      case block_plan::kind::tool_use:
        events.push_back(delta_event(i, "input_json_delta", "partial_json", piece));
        break;
      }
    }
    if (b.what == block_plan::kind::thinking)
      events.push_back(delta_event(i, "signature_delta", "signature", b.signature));
    events.push_back(make_event("content_block_stop", [&](json_writer &w) {
      key(w, "index");
      w.Uint64(i);
    }));
  }

  events.push_back(make_event("message_delta", [&](json_writer &w) {
    key(w, "delta");
    w.StartObject();
    key(w, "stop_reason");
    put(w, m.stop_reason);
    key(w, "stop_sequence");
    w.Null();
    w.EndObject();
    key(w, "usage");
    w.StartObject();
    key(w, "output_tokens");
    w.Int64(m.output_tokens);
    w.EndObject();
  }));
  events.push_back(make_event("message_stop", [](json_writer &) {}));
  return events;
}

std::string build_message_json(const scenario_params &p) {
  const message_plan m = plan_for(p);
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  w.StartObject();
  put_message_head(w, p);
  key(w, "content");
  w.StartArray();
  for (const auto &b : m.blocks)
    put_block(w, b, true);
  w.EndArray();
  key(w, "stop_reason");
  put(w, m.stop_reason);
  key(w, "stop_sequence");
  w.Null();
  put_usage(w, p.input_tokens, m.output_tokens);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

namespace {

/// The text a chat answer consists of, in p.text_chunks pieces of p.chunk_size characters.
std::vector<std::string> chat_pieces(const scenario_params &p) {
  static constexpr std::string_view phrase = "Hello from the upstream simulator. ";
  std::vector<std::string> pieces;
  for (int i = 0; i < std::max(1, p.text_chunks); ++i) {
    std::string piece;
    for (std::size_t j = 0; j < std::max<std::size_t>(1, p.chunk_size); ++j)
      piece += phrase[(i * p.chunk_size + j) % phrase.size()];
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

/// Everything a chat answer contains, decided once so streamed and non-streamed answers agree.
struct chat_plan {
  std::vector<std::string> text; // content pieces
  bool tool_call = false;
  std::string call_id, tool_name;
  std::vector<std::string> arguments; // argument fragments; joined, a JSON object
  std::string finish_reason;
  std::int64_t completion_tokens = 1;
  std::string joined_text() const {
    std::string out;
    for (const auto &t : text)
      out += t;
    return out;
  }
  std::string joined_arguments() const {
    std::string out;
    for (const auto &a : arguments)
      out += a;
    return out;
  }
};

chat_plan chat_plan_for(const scenario_params &p) {
  chat_plan c;
  if (p.kind != scenario::tool_use) {
    c.text = chat_pieces(p);
    c.finish_reason = "stop";
    c.completion_tokens = p.text_chunks;
    return c;
  }
  // The Messages tool_use answer, as the upstream's OpenAI layer translates it: the text block
  // becomes the content, the tool_use block the one tool call.
  const message_plan m = plan_for(p);
  for (const auto &b : m.blocks) {
    if (b.what == block_plan::kind::text) {
      c.text = b.pieces;
    } else if (b.what == block_plan::kind::tool_use) {
      c.tool_call = true;
      c.tool_name = b.tool_name;
      for (const auto &piece : b.pieces)
        if (!piece.empty())
          c.arguments.push_back(piece);
    }
  }
  c.call_id = "call_" + p.message_id;
  c.finish_reason = "tool_calls";
  c.completion_tokens = m.output_tokens;
  return c;
}

void put_chat_head(json_writer &w, const scenario_params &p, std::string_view object) {
  key(w, "id");
  put(w, "chatcmpl-" + p.message_id);
  key(w, "object");
  put(w, object);
  key(w, "created");
  w.Int64(1767225600); // fixed: answers are reproducible
  key(w, "model");
  put(w, p.model);
}

void put_chat_usage(json_writer &w, const scenario_params &p, const chat_plan &c) {
  key(w, "usage");
  w.StartObject();
  key(w, "prompt_tokens");
  w.Int64(p.input_tokens);
  key(w, "completion_tokens");
  w.Int64(c.completion_tokens);
  key(w, "total_tokens");
  w.Int64(p.input_tokens + c.completion_tokens);
  w.EndObject();
}

/// {"index":0,"id":..,"type":"function","function":{"name":..,"arguments":..}}; a streamed
/// fragment has only index and function.arguments.
void put_tool_call(json_writer &w, const chat_plan &c, bool streamed, bool head,
                   std::string_view arguments) {
  w.StartObject();
  if (streamed) {
    key(w, "index");
    w.Int(0);
  }
  if (head) {
    key(w, "id");
    put(w, c.call_id);
    key(w, "type");
    put(w, "function");
  }
  key(w, "function");
  w.StartObject();
  if (head) {
    key(w, "name");
    put(w, c.tool_name);
  }
  key(w, "arguments");
  put(w, arguments);
  w.EndObject();
  w.EndObject();
}

/// One chat.completion.chunk: `delta` writes the delta's members; with include_usage, the
/// "usage":null OpenAI puts on every chunk but the last.
template <class Delta>
sse_event chat_chunk(const scenario_params &p, bool include_usage, const char *finish_reason,
                     Delta &&delta) {
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  w.StartObject();
  put_chat_head(w, p, "chat.completion.chunk");
  key(w, "choices");
  w.StartArray();
  w.StartObject();
  key(w, "index");
  w.Int(0);
  key(w, "delta");
  w.StartObject();
  delta(w);
  w.EndObject();
  key(w, "finish_reason");
  if (finish_reason)
    put(w, finish_reason);
  else
    w.Null();
  w.EndObject();
  w.EndArray();
  if (include_usage) {
    key(w, "usage");
    w.Null();
  }
  w.EndObject();
  return {"", std::string(sb.GetString(), sb.GetSize())};
}

} // namespace

std::vector<sse_event> build_chat_events(const scenario_params &p, bool include_usage) {
  const chat_plan c = chat_plan_for(p);
  std::vector<sse_event> events;
  events.push_back(chat_chunk(p, include_usage, nullptr, [](json_writer &w) {
    key(w, "role");
    put(w, "assistant");
    key(w, "content");
    put(w, "");
  }));
  for (const auto &piece : c.text)
    events.push_back(chat_chunk(p, include_usage, nullptr, [&](json_writer &w) {
      key(w, "content");
      put(w, piece);
    }));
  if (c.tool_call) {
    auto tool_chunk = [&](bool head, std::string_view arguments) {
      return chat_chunk(p, include_usage, nullptr, [&](json_writer &w) {
        key(w, "tool_calls");
        w.StartArray();
        put_tool_call(w, c, true, head, arguments);
        w.EndArray();
      });
    };
    events.push_back(tool_chunk(true, ""));
    for (const auto &fragment : c.arguments)
      events.push_back(tool_chunk(false, fragment));
  }
  events.push_back(chat_chunk(p, include_usage, c.finish_reason.c_str(), [](json_writer &) {}));
  if (include_usage) {
    rapidjson::StringBuffer sb;
    json_writer w(sb);
    w.StartObject();
    put_chat_head(w, p, "chat.completion.chunk");
    key(w, "choices");
    w.StartArray();
    w.EndArray();
    put_chat_usage(w, p, c);
    w.EndObject();
    events.push_back({"", std::string(sb.GetString(), sb.GetSize())});
  }
  events.push_back({"", "[DONE]"});
  return events;
}

std::string build_chat_json(const scenario_params &p) {
  const chat_plan c = chat_plan_for(p);
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  w.StartObject();
  put_chat_head(w, p, "chat.completion");
  key(w, "choices");
  w.StartArray();
  w.StartObject();
  key(w, "index");
  w.Int(0);
  key(w, "message");
  w.StartObject();
  key(w, "role");
  put(w, "assistant");
  key(w, "content");
  if (c.text.empty())
    w.Null();
  else
    put(w, c.joined_text());
  if (c.tool_call) {
    key(w, "tool_calls");
    w.StartArray();
    put_tool_call(w, c, false, true, c.joined_arguments());
    w.EndArray();
  }
  w.EndObject();
  key(w, "finish_reason");
  put(w, c.finish_reason);
  w.EndObject();
  w.EndArray();
  put_chat_usage(w, p, c);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::int64_t estimate_input_tokens(std::string_view body) {
  return static_cast<std::int64_t>(body.size() / 4 + 1);
}

namespace {

/// Parses `body` into `doc` and checks what every model request has: a JSON object with a string
/// model and an array messages, and, when require_max_tokens, a positive integer max_tokens.
bool parse_model_request(std::string_view body, bool require_max_tokens, rapidjson::Document &doc,
                         std::string &error) {
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    error = doc.HasParseError() ? "There was an error parsing the body of your request: invalid "
                                  "JSON."
                                : "Request body must be a JSON object.";
    return false;
  }
  auto model = doc.FindMember("model");
  if (model == doc.MemberEnd()) {
    error = "model: Field required";
    return false;
  }
  if (!model->value.IsString()) {
    error = "model: Input should be a valid string";
    return false;
  }
  auto messages = doc.FindMember("messages");
  if (messages == doc.MemberEnd()) {
    error = "messages: Field required";
    return false;
  }
  if (!messages->value.IsArray()) {
    error = "messages: Input should be a valid list";
    return false;
  }
  if (require_max_tokens) {
    auto max_tokens = doc.FindMember("max_tokens");
    if (max_tokens == doc.MemberEnd()) {
      error = "max_tokens: Field required";
      return false;
    }
    if (!max_tokens->value.IsInt64() || max_tokens->value.GetInt64() < 1) {
      error = "max_tokens: Input should be a positive integer";
      return false;
    }
  }
  return true;
}

std::string string_member(const rapidjson::Value &object, const char *name) {
  if (!object.IsObject())
    return {};
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString())
    return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool true_member(const rapidjson::Value &object, const char *name) {
  if (!object.IsObject())
    return false;
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

} // namespace

std::optional<message_request> parse_message_request(std::string_view body, bool require_max_tokens,
                                                     std::string &error) {
  rapidjson::Document doc;
  if (!parse_model_request(body, require_max_tokens, doc, error))
    return std::nullopt;

  message_request req;
  req.model = string_member(doc, "model");
  req.stream = true_member(doc, "stream");

  auto tools = doc.FindMember("tools");
  auto thinking = doc.FindMember("thinking");
  if (tools != doc.MemberEnd() && tools->value.IsArray() && !tools->value.Empty()) {
    req.derived = scenario::tool_use;
    req.first_tool_name = string_member(tools->value[0], "name");
  } else if (thinking != doc.MemberEnd() && thinking->value.IsObject()) {
    // {"type":"disabled"} is an explicit "no thinking".
    if (string_member(thinking->value, "type") != "disabled")
      req.derived = scenario::thinking;
  }
  return req;
}

std::optional<chat_request> parse_chat_request(std::string_view body, std::string &error) {
  rapidjson::Document doc;
  if (!parse_model_request(body, false, doc, error))
    return std::nullopt;

  chat_request req;
  req.model = string_member(doc, "model");
  req.stream = true_member(doc, "stream");
  if (auto options = doc.FindMember("stream_options"); options != doc.MemberEnd())
    req.include_usage = true_member(options->value, "include_usage");

  auto tools = doc.FindMember("tools");
  if (tools == doc.MemberEnd() || !tools->value.IsArray() || tools->value.Empty())
    return req;
  // tool_choice: "none" | "auto" | "required" | {"type":"function","function":{"name":..}}
  auto choice = doc.FindMember("tool_choice");
  if (choice != doc.MemberEnd() && choice->value.IsString() &&
      std::string_view(choice->value.GetString(), choice->value.GetStringLength()) == "none")
    return req;
  req.derived = scenario::tool_use;
  if (choice != doc.MemberEnd() && choice->value.IsObject()) {
    if (auto fn = choice->value.FindMember("function"); fn != choice->value.MemberEnd())
      req.tool_name = string_member(fn->value, "name");
  }
  if (req.tool_name.empty()) {
    const auto &first = tools->value[0];
    if (first.IsObject())
      if (auto fn = first.FindMember("function"); fn != first.MemberEnd())
        req.tool_name = string_member(fn->value, "name");
  }
  return req;
}

std::optional<fault> parse_fault(std::string_view header) {
  header = trim(header);
  fault f;
  if (header.empty())
    return f;
  if (iequals(header, "reset-before-headers")) {
    f.what = fault::kind::reset_before_headers;
  } else if (iequals(header, "reset-mid-stream")) {
    f.what = fault::kind::reset_mid_stream;
  } else if (iequals(header, "stall")) {
    f.what = fault::kind::stall;
  } else if (iequals(header, "stall-mid-stream")) {
    f.what = fault::kind::stall_mid_stream;
  } else if (iequals(header, "extra-usage")) {
    f.what = fault::kind::extra_usage;
  } else {
    // status=<code>[;retry-after=<s>]
    f.what = fault::kind::status;
    bool have_status = false;
    while (!header.empty()) {
      const auto semi = header.find(';');
      const std::string_view part = trim(header.substr(0, semi));
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
      const auto eq = part.find('=');
      if (eq == std::string_view::npos)
        return std::nullopt;
      const std::string_view name = trim(part.substr(0, eq));
      const std::string_view value = trim(part.substr(eq + 1));
      if (iequals(name, "status")) {
        auto code = parse_number<int>(value);
        if (!code || *code < 100 || *code > 599)
          return std::nullopt;
        f.status = *code;
        have_status = true;
      } else if (iequals(name, "retry-after")) {
        auto seconds = parse_number<long>(value);
        if (!seconds || *seconds < 0)
          return std::nullopt;
        f.retry_after_s = *seconds;
      } else {
        return std::nullopt;
      }
    }
    if (!have_status)
      return std::nullopt;
  }
  return f;
}

std::string_view error_type_for_status(int status) {
  switch (status) {
  case 400:
    return "invalid_request_error";
  case 401:
    return "authentication_error";
  case 402:
    return "billing_error";
  case 403:
    return "permission_error";
  case 404:
    return "not_found_error";
  case 413:
    return "request_too_large";
  case 429:
    return "rate_limit_error";
  case 500:
    return "api_error";
  case 504:
    return "timeout_error";
  case 529:
    return "overloaded_error";
  default:
    return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string_view default_error_message(int status) {
  switch (status) {
  case 400:
    return "Invalid request (simulated).";
  case 401:
    return "invalid x-api-key";
  case 402:
    return "Your credit balance is too low to access the Anthropic API.";
  case 403:
    return "Your API key does not have permission to use the specified resource.";
  case 404:
    return "The requested resource could not be found.";
  case 413:
    return "Request exceeds the maximum allowed number of bytes.";
  case 429:
    return "Number of requests has exceeded your per-minute rate limit (simulated).";
  case 504:
    return "Request timed out (simulated).";
  case 529:
    return "Overloaded";
  default:
    return status >= 500 ? "Internal server error" : "Request failed (simulated).";
  }
}

std::string error_json(std::string_view type, std::string_view message,
                       std::string_view request_id) {
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  w.StartObject();
  key(w, "type");
  put(w, "error");
  key(w, "error");
  w.StartObject();
  key(w, "type");
  put(w, type);
  key(w, "message");
  put(w, message);
  w.EndObject();
  key(w, "request_id");
  put(w, request_id);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

} // namespace sim
