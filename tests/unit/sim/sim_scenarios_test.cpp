// Tests of the simulator's pure scenario functions: the SSE events it streams must be
// well-formed, correctly ordered, and assemble to exactly the non-streamed message.

#include "sim/scenarios.hpp"

#include "sim_json.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <string>
#include <vector>

namespace {

using rapidjson::Document;
using rapidjson::Value;

using sim_test::parse;
using sim_test::str;

std::string serialize(const Value &v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

sim::scenario_params params_for(sim::scenario kind) {
  sim::scenario_params p;
  p.kind = kind;
  p.message_id = "msg_sim_7";
  p.model = "claude-opus-4-7";
  p.input_tokens = 42;
  p.text_chunks = 5;
  p.chunk_size = 9;
  p.tool_name = "lookup_weather";
  return p;
}

// Assembles streamed events into a final message the way an SDK accumulator does, checking
// block bookkeeping along the way.
Document assemble(const std::vector<sim::sse_event> &events) {
  Document message;
  auto &a = message.GetAllocator();
  std::map<int, std::string> partial_json;
  int open_block = -1;
  int next_index = 0;
  bool started = false, stopped = false, delta_seen = false;

  for (const auto &e : events) {
    INFO("event " << e.type << ": " << e.data);
    REQUIRE_FALSE(stopped);
    Document d = parse(e.data);
    REQUIRE(d.IsObject());
    REQUIRE(str(d["type"]) == e.type);

    if (e.type == "message_start") {
      REQUIRE_FALSE(started);
      started = true;
      message.CopyFrom(d["message"], a);
      REQUIRE(message["content"].IsArray());
      REQUIRE(message["content"].Empty());
      continue;
    }
    REQUIRE(started);
    if (e.type == "ping")
      continue;
    if (e.type == "content_block_start") {
      REQUIRE_FALSE(delta_seen);
      REQUIRE(open_block == -1);
      REQUIRE(d["index"].GetInt() == next_index);
      open_block = next_index++;
      Value block;
      block.CopyFrom(d["content_block"], a);
      message["content"].PushBack(block, a);
    } else if (e.type == "content_block_delta") {
      REQUIRE(open_block >= 0);
      REQUIRE(d["index"].GetInt() == open_block);
      Value &block = message["content"][static_cast<rapidjson::SizeType>(open_block)];
      const std::string delta_type = str(d["delta"]["type"]);
      auto append = [&](const char *field, const char *delta_field) {
        std::string text = str(block[field]) + str(d["delta"][delta_field]);
        block[field].SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), a);
      };
      if (delta_type == "text_delta") {
        REQUIRE(str(block["type"]) == "text");
        append("text", "text");
      } else if (delta_type == "thinking_delta") {
        REQUIRE(str(block["type"]) == "thinking");
        REQUIRE(str(block["signature"]).empty()); // no thinking after the signature
        append("thinking", "thinking");
      } else if (delta_type == "signature_delta") {
        REQUIRE(str(block["type"]) == "thinking");
        append("signature", "signature");
      } else if (delta_type == "input_json_delta") {
        REQUIRE(str(block["type"]) == "tool_use");
        partial_json[open_block] += str(d["delta"]["partial_json"]);
      } else {
        FAIL("unexpected delta type " << delta_type);
      }
    } else if (e.type == "content_block_stop") {
      REQUIRE(open_block >= 0);
      REQUIRE(d["index"].GetInt() == open_block);
      Value &block = message["content"][static_cast<rapidjson::SizeType>(open_block)];
      if (str(block["type"]) == "tool_use") {
        Document input = parse(partial_json[open_block]);
        REQUIRE(input.IsObject());
        block["input"].CopyFrom(input, a);
      }
      open_block = -1;
    } else if (e.type == "message_delta") {
      REQUIRE(open_block == -1);
      REQUIRE_FALSE(delta_seen);
      delta_seen = true;
      message["stop_reason"].CopyFrom(d["delta"]["stop_reason"], a);
      message["stop_sequence"].CopyFrom(d["delta"]["stop_sequence"], a);
      message["usage"]["output_tokens"].CopyFrom(d["usage"]["output_tokens"], a);
    } else if (e.type == "message_stop") {
      REQUIRE(delta_seen);
      stopped = true;
    } else {
      FAIL("unexpected event type " << e.type);
    }
  }
  REQUIRE(stopped);
  return message;
}

std::vector<std::string> deltas(const std::vector<sim::sse_event> &events,
                                const std::string &delta_type, const char *field) {
  std::vector<std::string> out;
  for (const auto &e : events) {
    if (e.type != "content_block_delta")
      continue;
    Document d = parse(e.data);
    if (str(d["delta"]["type"]) == delta_type)
      out.push_back(str(d["delta"][field]));
  }
  return out;
}

std::size_t index_of(const std::vector<sim::sse_event> &events, const std::string &type,
                     const std::string &needle = {}) {
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i].type == type && events[i].data.find(needle) != std::string::npos)
      return i;
  FAIL("no " << type << " event containing " << needle);
  return events.size();
}

// Assembles streamed chat.completion.chunk events into the chat.completion they stand for, the
// way the openai SDK's stream accumulator does, checking the chunk bookkeeping along the way:
// {"message":{...},"finish_reason":..,"usage":<the usage chunk's, or null>}.
Document assemble_chat(const std::vector<sim::sse_event> &events, bool include_usage) {
  Document out;
  out.SetObject();
  auto &a = out.GetAllocator();
  std::string role, content, call_id, call_type, call_name, arguments;
  bool content_seen = false, call_seen = false, finished = false, done = false;
  std::string finish_reason;
  Value usage; // null unless a usage chunk came
  REQUIRE(events.size() >= 3);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto &e = events[i];
    INFO("chunk " << i << ": " << e.data);
    REQUIRE(e.type.empty());
    REQUIRE(e.wire() == "data: " + e.data + "\n\n");
    REQUIRE_FALSE(done);
    if (e.data == "[DONE]") {
      REQUIRE(i + 1 == events.size());
      done = true;
      continue;
    }
    Document d = parse(e.data);
    REQUIRE(str(d["object"]) == "chat.completion.chunk");
    REQUIRE(str(d["id"]).rfind("chatcmpl-", 0) == 0);
    REQUIRE(d["created"].IsInt64());
    REQUIRE(d.HasMember("model"));
    REQUIRE(d.HasMember("usage") == include_usage);
    if (include_usage && !d["usage"].IsNull()) {
      // The usage chunk: after the finish, with no choices, and only once.
      REQUIRE(finished);
      REQUIRE(usage.IsNull());
      REQUIRE(d["choices"].IsArray());
      REQUIRE(d["choices"].Empty());
      usage.CopyFrom(d["usage"], a);
      continue;
    }
    REQUIRE_FALSE(finished);
    REQUIRE(d["choices"].Size() == 1);
    const Value &choice = d["choices"][0];
    REQUIRE(choice["index"].GetInt() == 0);
    const Value &delta = choice["delta"];
    REQUIRE(delta.IsObject());
    if (i == 0) {
      REQUIRE(str(delta["role"]) == "assistant");
      role = str(delta["role"]);
    } else {
      REQUIRE_FALSE(delta.HasMember("role"));
    }
    if (delta.HasMember("content")) {
      REQUIRE_FALSE(call_seen); // the text comes before the tool call
      content += str(delta["content"]);
      content_seen = true;
    }
    if (delta.HasMember("tool_calls")) {
      REQUIRE(delta["tool_calls"].Size() == 1);
      const Value &call = delta["tool_calls"][0];
      REQUIRE(call["index"].GetInt() == 0);
      if (!call_seen) {
        // The first chunk of a call names it, with empty arguments.
        call_id = str(call["id"]);
        call_type = str(call["type"]);
        call_name = str(call["function"]["name"]);
        REQUIRE(str(call["function"]["arguments"]).empty());
        call_seen = true;
      } else {
        // Later chunks carry argument fragments only.
        REQUIRE(call.MemberCount() == 2);
        REQUIRE(call["function"].MemberCount() == 1);
        REQUIRE_FALSE(str(call["function"]["arguments"]).empty());
        arguments += str(call["function"]["arguments"]);
      }
    }
    if (choice["finish_reason"].IsNull())
      continue;
    REQUIRE(delta.ObjectEmpty());
    finish_reason = str(choice["finish_reason"]);
    finished = true;
  }
  REQUIRE(finished);
  REQUIRE(done);
  REQUIRE(usage.IsNull() != include_usage);

  Value message(rapidjson::kObjectType);
  message.AddMember("role", Value(role.c_str(), a), a);
  if (content_seen && !content.empty())
    message.AddMember("content", Value(content.c_str(), a), a);
  else
    message.AddMember("content", Value(rapidjson::kNullType), a);
  if (call_seen) {
    Value function(rapidjson::kObjectType);
    function.AddMember("name", Value(call_name.c_str(), a), a);
    function.AddMember("arguments", Value(arguments.c_str(), a), a);
    Value call(rapidjson::kObjectType);
    call.AddMember("id", Value(call_id.c_str(), a), a);
    call.AddMember("type", Value(call_type.c_str(), a), a);
    call.AddMember("function", function, a);
    Value calls(rapidjson::kArrayType);
    calls.PushBack(call, a);
    message.AddMember("tool_calls", calls, a);
  }
  out.AddMember("message", message, a);
  out.AddMember("finish_reason", Value(finish_reason.c_str(), a), a);
  out.AddMember("usage", usage, a);
  return out;
}

} // namespace

TEST_CASE("every event is framed as event/data with a matching type", "[sim]") {
  for (auto kind : {sim::scenario::text, sim::scenario::tool_use, sim::scenario::thinking}) {
    INFO("scenario " << sim::scenario_name(kind));
    const auto events = sim::build_events(params_for(kind));
    REQUIRE(events.size() >= 7);
    for (const auto &e : events) {
      const std::string wire = e.wire();
      REQUIRE(wire == "event: " + e.type + "\ndata: " + e.data + "\n\n");
      REQUIRE(e.data.find('\n') == std::string::npos);
      REQUIRE(e.type.find_first_of("\r\n: ") == std::string::npos);
      Document d = parse(e.data);
      REQUIRE(d.IsObject());
      REQUIRE(str(d["type"]) == e.type);
    }
  }
}

TEST_CASE("events come in message_start, ping, blocks, message_delta, message_stop order",
          "[sim]") {
  for (auto kind : {sim::scenario::text, sim::scenario::tool_use, sim::scenario::thinking}) {
    INFO("scenario " << sim::scenario_name(kind));
    const auto events = sim::build_events(params_for(kind));
    REQUIRE(events.front().type == "message_start");
    REQUIRE(events[1].type == "ping");
    REQUIRE(events[2].type == "content_block_start");
    REQUIRE(events[events.size() - 2].type == "message_delta");
    REQUIRE(events.back().type == "message_stop");
    // assemble() checks the block bookkeeping (start/delta/stop per index, in order).
    assemble(events);

    Document start = parse(events.front().data);
    const Value &m = start["message"];
    REQUIRE(str(m["id"]) == "msg_sim_7");
    REQUIRE(str(m["type"]) == "message");
    REQUIRE(str(m["role"]) == "assistant");
    REQUIRE(str(m["model"]) == "claude-opus-4-7");
    REQUIRE(m["stop_reason"].IsNull());
    REQUIRE(m["usage"]["input_tokens"].GetInt64() == 42);
    REQUIRE(m["usage"]["output_tokens"].GetInt64() == 1);
  }
}

TEST_CASE("streamed events assemble to exactly the non-streamed message", "[sim]") {
  for (auto kind : {sim::scenario::text, sim::scenario::tool_use, sim::scenario::thinking}) {
    INFO("scenario " << sim::scenario_name(kind));
    const auto p = params_for(kind);
    Document assembled = assemble(sim::build_events(p));
    Document expected = parse(sim::build_message_json(p));
    INFO("assembled: " << serialize(assembled));
    INFO("expected:  " << serialize(expected));
    REQUIRE(assembled == expected);
    REQUIRE(str(expected["id"]) == "msg_sim_7");
    REQUIRE(str(expected["model"]) == "claude-opus-4-7");
    REQUIRE(expected["stop_sequence"].IsNull());
    REQUIRE(expected["usage"]["input_tokens"].GetInt64() == 42);
    REQUIRE(expected["usage"]["output_tokens"].GetInt64() > 1);
  }
}

TEST_CASE("text scenario streams text_chunks deltas of chunk_size characters", "[sim]") {
  const auto p = params_for(sim::scenario::text);
  const auto events = sim::build_events(p);
  const auto pieces = deltas(events, "text_delta", "text");
  REQUIRE(pieces.size() == 5);
  std::string joined;
  for (const auto &piece : pieces) {
    REQUIRE(piece.size() == 9);
    joined += piece;
  }
  Document message = parse(sim::build_message_json(p));
  REQUIRE(message["content"].Size() == 1);
  REQUIRE(str(message["content"][0]["type"]) == "text");
  REQUIRE(str(message["content"][0]["text"]) == joined);
  REQUIRE(str(message["stop_reason"]) == "end_turn");
  REQUIRE(joined.rfind("Hello from the upstream", 0) == 0);

  Document delta = parse(events[events.size() - 2].data);
  REQUIRE(str(delta["delta"]["stop_reason"]) == "end_turn");
  REQUIRE(delta["usage"]["output_tokens"] == message["usage"]["output_tokens"]);
}

TEST_CASE("text scenario clamps nonsensical sizes to at least one", "[sim]") {
  auto p = params_for(sim::scenario::text);
  p.text_chunks = 0;
  p.chunk_size = 0;
  const auto pieces = deltas(sim::build_events(p), "text_delta", "text");
  REQUIRE(pieces.size() == 1);
  REQUIRE(pieces[0].size() == 1);
}

TEST_CASE("tool_use partial_json pieces concatenate to the non-streamed input", "[sim]") {
  const auto p = params_for(sim::scenario::tool_use);
  const auto events = sim::build_events(p);
  const auto pieces = deltas(events, "input_json_delta", "partial_json");
  REQUIRE(pieces.size() >= 3);
  std::string joined;
  for (const auto &piece : pieces)
    joined += piece;
  Document streamed_input = parse(joined);
  REQUIRE(streamed_input.IsObject());
  // No single piece is the whole object: the client really has to concatenate.
  for (const auto &piece : pieces)
    REQUIRE(piece != joined);

  Document message = parse(sim::build_message_json(p));
  REQUIRE(str(message["stop_reason"]) == "tool_use");
  REQUIRE(message["content"].Size() == 2);
  REQUIRE(str(message["content"][0]["type"]) == "text");
  REQUIRE_FALSE(str(message["content"][0]["text"]).empty());
  const Value &tool = message["content"][1];
  REQUIRE(str(tool["type"]) == "tool_use");
  REQUIRE(str(tool["id"]) == "toolu_sim_1");
  REQUIRE(str(tool["name"]) == "lookup_weather");
  REQUIRE(tool["input"] == streamed_input);
  REQUIRE(str(tool["input"]["location"]) == "Paris");
  REQUIRE(str(tool["input"]["unit"]) == "celsius");

  // The streamed block starts with an empty input object, as upstream does.
  Document start = parse(events[index_of(events, "content_block_start", "tool_use")].data);
  REQUIRE(start["index"].GetInt() == 1);
  REQUIRE(str(start["content_block"]["id"]) == "toolu_sim_1");
  REQUIRE(str(start["content_block"]["name"]) == "lookup_weather");
  REQUIRE(start["content_block"]["input"].IsObject());
  REQUIRE(start["content_block"]["input"].ObjectEmpty());
}

TEST_CASE("thinking sends its signature_delta before the block stops", "[sim]") {
  const auto p = params_for(sim::scenario::thinking);
  const auto events = sim::build_events(p);

  const auto thinking_start = index_of(events, "content_block_start", "\"thinking\"");
  const auto signature = index_of(events, "content_block_delta", "signature_delta");
  std::size_t thinking_stop = events.size();
  for (std::size_t i = signature; i < events.size(); ++i) {
    if (events[i].type == "content_block_stop") {
      thinking_stop = i;
      break;
    }
  }
  REQUIRE(thinking_start < signature);
  REQUIRE(signature < thinking_stop);
  REQUIRE(thinking_stop < events.size());
  REQUIRE(parse(events[thinking_stop].data)["index"].GetInt() == 0);
  // Every thinking_delta precedes the signature.
  for (std::size_t i = signature; i < events.size(); ++i)
    REQUIRE(events[i].data.find("thinking_delta") == std::string::npos);

  const auto thoughts = deltas(events, "thinking_delta", "thinking");
  REQUIRE(thoughts.size() >= 2);
  std::string thinking_text;
  for (const auto &t : thoughts)
    thinking_text += t;
  const auto signatures = deltas(events, "signature_delta", "signature");
  REQUIRE(signatures.size() == 1);
  REQUIRE(signatures[0].size() >= 200);
  REQUIRE(signatures[0].find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
          std::string::npos);

  Document message = parse(sim::build_message_json(p));
  REQUIRE(str(message["stop_reason"]) == "end_turn");
  REQUIRE(message["content"].Size() == 2);
  REQUIRE(str(message["content"][0]["type"]) == "thinking");
  REQUIRE(str(message["content"][0]["thinking"]) == thinking_text);
  REQUIRE(str(message["content"][0]["signature"]) == signatures[0]);
  REQUIRE(str(message["content"][1]["type"]) == "text");
  REQUIRE(message["content"][1]["text"].GetStringLength() == 5 * 9);
}

TEST_CASE("scenario output is deterministic", "[sim]") {
  for (auto kind : {sim::scenario::text, sim::scenario::tool_use, sim::scenario::thinking}) {
    const auto p = params_for(kind);
    const auto a = sim::build_events(p);
    const auto b = sim::build_events(p);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      REQUIRE(a[i].wire() == b[i].wire());
    REQUIRE(sim::build_message_json(p) == sim::build_message_json(p));
  }
  // Only the id differs between requests.
  auto p1 = params_for(sim::scenario::text);
  auto p2 = p1;
  p2.message_id = "msg_sim_8";
  auto m1 = parse(sim::build_message_json(p1));
  auto m2 = parse(sim::build_message_json(p2));
  m2["id"].SetString("msg_sim_7");
  REQUIRE(m1 == m2);
}

TEST_CASE("the model is echoed with JSON escaping", "[sim]") {
  auto p = params_for(sim::scenario::text);
  p.model = "odd \"model\"\n";
  Document message = parse(sim::build_message_json(p));
  REQUIRE(str(message["model"]) == p.model);
  Document start = parse(sim::build_events(p).front().data);
  REQUIRE(str(start["message"]["model"]) == p.model);
}

TEST_CASE("parse_scenario accepts the three names only", "[sim]") {
  REQUIRE(sim::parse_scenario("text") == sim::scenario::text);
  REQUIRE(sim::parse_scenario("tool_use") == sim::scenario::tool_use);
  REQUIRE(sim::parse_scenario(" Thinking ") == sim::scenario::thinking);
  REQUIRE_FALSE(sim::parse_scenario("tools").has_value());
  REQUIRE_FALSE(sim::parse_scenario("").has_value());
  REQUIRE(sim::scenario_name(sim::scenario::tool_use) == "tool_use");
}

TEST_CASE("parse_message_request validates and derives the scenario", "[sim]") {
  std::string error;

  auto plain = sim::parse_message_request(
      R"({"model":"claude-sonnet-4-6","max_tokens":10,"messages":[]})", true, error);
  REQUIRE(plain.has_value());
  REQUIRE(plain->model == "claude-sonnet-4-6");
  REQUIRE_FALSE(plain->stream);
  REQUIRE(plain->derived == sim::scenario::text);

  auto tools = sim::parse_message_request(
      R"({"model":"m","max_tokens":1,"stream":true,"messages":[],"thinking":{"type":"enabled"},
          "tools":[{"name":"get_time","input_schema":{}},{"name":"other"}]})",
      true, error);
  REQUIRE(tools.has_value());
  REQUIRE(tools->stream);
  REQUIRE(tools->derived == sim::scenario::tool_use);
  REQUIRE(tools->first_tool_name == "get_time");

  auto empty_tools = sim::parse_message_request(
      R"({"model":"m","max_tokens":1,"messages":[],"tools":[]})", true, error);
  REQUIRE(empty_tools.has_value());
  REQUIRE(empty_tools->derived == sim::scenario::text);

  auto thinking = sim::parse_message_request(
      R"({"model":"m","max_tokens":1,"messages":[],"thinking":{"type":"enabled","budget_tokens":1024}})",
      true, error);
  REQUIRE(thinking.has_value());
  REQUIRE(thinking->derived == sim::scenario::thinking);

  auto disabled = sim::parse_message_request(
      R"({"model":"m","max_tokens":1,"messages":[],"thinking":{"type":"disabled"}})", true, error);
  REQUIRE(disabled.has_value());
  REQUIRE(disabled->derived == sim::scenario::text);

  auto string_stream = sim::parse_message_request(
      R"({"model":"m","max_tokens":1,"messages":[],"stream":"true"})", true, error);
  REQUIRE(string_stream.has_value());
  REQUIRE_FALSE(string_stream->stream);

  REQUIRE_FALSE(sim::parse_message_request(R"({"messages":[],"max_tokens":1})", true, error));
  REQUIRE(error == "model: Field required");
  REQUIRE_FALSE(
      sim::parse_message_request(R"({"model":5,"messages":[],"max_tokens":1})", true, error));
  REQUIRE(error.find("model") != std::string::npos);
  REQUIRE_FALSE(sim::parse_message_request(R"({"model":"m","max_tokens":1})", true, error));
  REQUIRE(error == "messages: Field required");
  REQUIRE_FALSE(
      sim::parse_message_request(R"({"model":"m","messages":{},"max_tokens":1})", true, error));
  REQUIRE(error.find("messages") != std::string::npos);
  REQUIRE_FALSE(sim::parse_message_request(R"({"model":"m","messages":[]})", true, error));
  REQUIRE(error == "max_tokens: Field required");
  REQUIRE_FALSE(sim::parse_message_request("{not json", true, error));
  REQUIRE_FALSE(sim::parse_message_request("[]", true, error));
  // count_tokens needs no max_tokens.
  REQUIRE(sim::parse_message_request(R"({"model":"m","messages":[]})", false, error));
}

TEST_CASE("parse_fault understands every fault form", "[sim]") {
  using kind = sim::fault::kind;
  REQUIRE(sim::parse_fault("")->what == kind::none);
  REQUIRE(sim::parse_fault("reset-before-headers")->what == kind::reset_before_headers);
  REQUIRE(sim::parse_fault("extra-usage")->what == kind::extra_usage);
  REQUIRE(sim::parse_fault("reset-mid-stream")->what == kind::reset_mid_stream);
  REQUIRE(sim::parse_fault("stall")->what == kind::stall);
  REQUIRE(sim::parse_fault("stall-mid-stream")->what == kind::stall_mid_stream);

  auto plain = sim::parse_fault("status=529");
  REQUIRE(plain.has_value());
  REQUIRE(plain->what == kind::status);
  REQUIRE(plain->status == 529);
  REQUIRE_FALSE(plain->retry_after_s.has_value());

  auto retry = sim::parse_fault("status=429; retry-after=7");
  REQUIRE(retry.has_value());
  REQUIRE(retry->status == 429);
  REQUIRE(retry->retry_after_s == 7);

  REQUIRE_FALSE(sim::parse_fault("status=abc").has_value());
  REQUIRE_FALSE(sim::parse_fault("status=42").has_value());
  REQUIRE_FALSE(sim::parse_fault("retry-after=3").has_value());
  REQUIRE_FALSE(sim::parse_fault("status=500;color=red").has_value());
  REQUIRE_FALSE(sim::parse_fault("explode").has_value());
}

TEST_CASE("error bodies follow the Anthropic shape", "[sim]") {
  REQUIRE(sim::error_type_for_status(400) == "invalid_request_error");
  REQUIRE(sim::error_type_for_status(401) == "authentication_error");
  REQUIRE(sim::error_type_for_status(403) == "permission_error");
  REQUIRE(sim::error_type_for_status(404) == "not_found_error");
  REQUIRE(sim::error_type_for_status(413) == "request_too_large");
  REQUIRE(sim::error_type_for_status(429) == "rate_limit_error");
  REQUIRE(sim::error_type_for_status(500) == "api_error");
  REQUIRE(sim::error_type_for_status(504) == "timeout_error");
  REQUIRE(sim::error_type_for_status(529) == "overloaded_error");
  REQUIRE(sim::error_type_for_status(503) == "api_error");

  Document e = parse(sim::error_json("rate_limit_error", "slow \"down\"", "req_sim_3"));
  REQUIRE(str(e["type"]) == "error");
  REQUIRE(str(e["error"]["type"]) == "rate_limit_error");
  REQUIRE(str(e["error"]["message"]) == "slow \"down\"");
  REQUIRE(str(e["request_id"]) == "req_sim_3");
  REQUIRE(e.MemberCount() == 3);
}

TEST_CASE("input token estimate is deterministic", "[sim]") {
  REQUIRE(sim::estimate_input_tokens("") == 1);
  REQUIRE(sim::estimate_input_tokens("abc") == 1);
  REQUIRE(sim::estimate_input_tokens("abcd") == 2);
  REQUIRE(sim::estimate_input_tokens(std::string(400, 'x')) == 101);
}

TEST_CASE("chat completions: data-only chunks ending with [DONE], or one chat.completion") {
  sim::scenario_params p;
  p.text_chunks = 3;
  p.chunk_size = 5;
  auto events = sim::build_chat_events(p);
  REQUIRE(events.size() == 6); // role, three pieces, finish, [DONE]
  CHECK(events.front().wire().rfind("data: {", 0) == 0);
  CHECK(events.back().wire() == "data: [DONE]\n\n");
  CHECK(events[4].data.find("\"finish_reason\":\"stop\"") != std::string::npos);
  auto json = sim::build_chat_json(p);
  CHECK(json.find("\"content\":\"Hello from the \"") != std::string::npos);
  CHECK(json.find("\"completion_tokens\":3") != std::string::npos);
}

TEST_CASE("chat completions: a tool_use answer is one tool call in OpenAI's shape", "[sim][chat]") {
  auto p = params_for(sim::scenario::tool_use);
  p.message_id = "sim_7";
  Document completion = parse(sim::build_chat_json(p));
  INFO(serialize(completion));
  REQUIRE(str(completion["id"]) == "chatcmpl-sim_7");
  REQUIRE(str(completion["object"]) == "chat.completion");
  REQUIRE(str(completion["model"]) == "claude-opus-4-7");
  REQUIRE(completion["choices"].Size() == 1);
  const Value &choice = completion["choices"][0];
  REQUIRE(choice["index"].GetInt() == 0);
  REQUIRE(str(choice["finish_reason"]) == "tool_calls");
  const Value &message = choice["message"];
  REQUIRE(str(message["role"]) == "assistant");
  REQUIRE(str(message["content"]) == "I'll look that up with the tool.");
  REQUIRE(message["tool_calls"].Size() == 1);
  const Value &call = message["tool_calls"][0];
  REQUIRE(call.MemberCount() == 3); // no index outside a stream
  REQUIRE(str(call["id"]) == "call_sim_7");
  REQUIRE(str(call["type"]) == "function");
  REQUIRE(str(call["function"]["name"]) == "lookup_weather");
  // The arguments are a string of JSON: the Messages tool_use scenario's input.
  Document arguments = parse(str(call["function"]["arguments"]));
  Document messages_answer = parse(sim::build_message_json(p));
  REQUIRE(arguments == messages_answer["content"][1]["input"]);
  REQUIRE(str(arguments["location"]) == "Paris");
  REQUIRE(str(arguments["unit"]) == "celsius");

  const Value &usage = completion["usage"];
  REQUIRE(usage["prompt_tokens"].GetInt64() == 42);
  REQUIRE(usage["completion_tokens"] == messages_answer["usage"]["output_tokens"]);
  REQUIRE(usage["total_tokens"].GetInt64() ==
          42 + messages_answer["usage"]["output_tokens"].GetInt64());
}

TEST_CASE("chat completions: streamed chunks assemble to exactly the non-streamed answer",
          "[sim][chat]") {
  for (auto kind : {sim::scenario::text, sim::scenario::tool_use, sim::scenario::thinking}) {
    for (bool include_usage : {false, true}) {
      INFO("scenario " << sim::scenario_name(kind) << ", include_usage " << include_usage);
      const auto p = params_for(kind);
      const auto events = sim::build_chat_events(p, include_usage);
      Document assembled = assemble_chat(events, include_usage);
      Document completion = parse(sim::build_chat_json(p));
      INFO("assembled: " << serialize(assembled));
      INFO("expected:  " << serialize(completion));
      REQUIRE(assembled["message"] == completion["choices"][0]["message"]);
      REQUIRE(assembled["finish_reason"] == completion["choices"][0]["finish_reason"]);
      if (include_usage)
        REQUIRE(assembled["usage"] == completion["usage"]);
      REQUIRE(str(completion["choices"][0]["finish_reason"]) ==
              (kind == sim::scenario::tool_use ? "tool_calls" : "stop"));
      REQUIRE(events.back().wire() == "data: [DONE]\n\n");
    }
  }
}

TEST_CASE("chat completions: the tool call streams its head, then argument fragments",
          "[sim][chat]") {
  const auto p = params_for(sim::scenario::tool_use);
  const auto events = sim::build_chat_events(p);
  // role, two text pieces, the call's head, three argument fragments, finish, [DONE]
  REQUIRE(events.size() == 9);
  Document head = parse(events[3].data);
  INFO(events[3].data);
  const Value &call = head["choices"][0]["delta"]["tool_calls"][0];
  REQUIRE(call["index"].GetInt() == 0);
  REQUIRE(str(call["id"]) == "call_msg_sim_7");
  REQUIRE(str(call["type"]) == "function");
  REQUIRE(str(call["function"]["name"]) == "lookup_weather");
  REQUIRE(str(call["function"]["arguments"]).empty());
  std::string arguments;
  for (std::size_t i = 4; i < 7; ++i) {
    Document fragment = parse(events[i].data);
    const std::string piece =
        str(fragment["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]);
    arguments += piece;
    Document whole_try;
    whole_try.Parse(piece.c_str());
    REQUIRE(whole_try.HasParseError()); // no fragment is the whole object
  }
  REQUIRE(parse(arguments).IsObject());
  Document finish = parse(events[7].data);
  REQUIRE(str(finish["choices"][0]["finish_reason"]) == "tool_calls");
  REQUIRE(finish["choices"][0]["delta"].ObjectEmpty());
}

TEST_CASE("chat completions: usage in a stream only with include_usage", "[sim][chat]") {
  sim::scenario_params p;
  p.input_tokens = 17;
  p.text_chunks = 2;
  const auto plain = sim::build_chat_events(p);
  REQUIRE(plain.size() == 5); // role, two pieces, finish, [DONE]
  for (const auto &e : plain)
    REQUIRE(e.data.find("usage") == std::string::npos);

  const auto with_usage = sim::build_chat_events(p, true);
  REQUIRE(with_usage.size() == 6); // the same, and the usage chunk before [DONE]
  for (std::size_t i = 0; i + 2 < with_usage.size(); ++i)
    REQUIRE(parse(with_usage[i].data)["usage"].IsNull());
  Document last = parse(with_usage[with_usage.size() - 2].data);
  REQUIRE(last["choices"].Empty());
  REQUIRE(last["usage"]["prompt_tokens"].GetInt64() == 17);
  REQUIRE(last["usage"]["completion_tokens"].GetInt64() == 2);
  REQUIRE(last["usage"]["total_tokens"].GetInt64() == 19);
  REQUIRE(last["usage"] == parse(sim::build_chat_json(p))["usage"]);
  REQUIRE(with_usage.back().data == "[DONE]");
}

TEST_CASE("parse_chat_request reads tools, tool_choice, stream and stream_options", "[sim][chat]") {
  std::string error;
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}},)"
      R"({"type":"function","function":{"name":"get_time"}}])";

  auto plain = sim::parse_chat_request(R"({"model":"m","messages":[]})", error);
  REQUIRE(plain.has_value());
  REQUIRE(plain->model == "m");
  REQUIRE_FALSE(plain->stream);
  REQUIRE_FALSE(plain->include_usage);
  REQUIRE(plain->derived == sim::scenario::text);
  REQUIRE(plain->tool_name.empty());

  auto with_tools = sim::parse_chat_request(
      R"({"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true},)" +
          tools + "}",
      error);
  REQUIRE(with_tools.has_value());
  REQUIRE(with_tools->stream);
  REQUIRE(with_tools->include_usage);
  REQUIRE(with_tools->derived == sim::scenario::tool_use);
  REQUIRE(with_tools->tool_name == "get_weather");

  for (const char *choice : {R"("auto")", R"("required")"}) {
    auto r = sim::parse_chat_request(R"({"model":"m","messages":[],"tool_choice":)" +
                                         std::string(choice) + "," + tools + "}",
                                     error);
    REQUIRE(r->derived == sim::scenario::tool_use);
    REQUIRE(r->tool_name == "get_weather");
  }
  auto named = sim::parse_chat_request(
      R"({"model":"m","messages":[],"tool_choice":{"type":"function","function":{"name":"get_time"}},)" +
          tools + "}",
      error);
  REQUIRE(named->derived == sim::scenario::tool_use);
  REQUIRE(named->tool_name == "get_time");

  auto none = sim::parse_chat_request(
      R"({"model":"m","messages":[],"tool_choice":"none",)" + tools + "}", error);
  REQUIRE(none->derived == sim::scenario::text);

  auto empty = sim::parse_chat_request(R"({"model":"m","messages":[],"tools":[]})", error);
  REQUIRE(empty->derived == sim::scenario::text);

  // A tool without function.name still asks for a call; the simulator then names it itself.
  auto nameless = sim::parse_chat_request(
      R"({"model":"m","messages":[],"tools":[{"name":"anthropic_shaped"}]})", error);
  REQUIRE(nameless->derived == sim::scenario::tool_use);
  REQUIRE(nameless->tool_name.empty());

  auto no_usage = sim::parse_chat_request(
      R"({"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":false}})",
      error);
  REQUIRE_FALSE(no_usage->include_usage);

  REQUIRE_FALSE(sim::parse_chat_request(R"({"messages":[]})", error));
  REQUIRE(error == "model: Field required");
  REQUIRE_FALSE(sim::parse_chat_request(R"({"model":"m"})", error));
  REQUIRE(error == "messages: Field required");
  REQUIRE_FALSE(sim::parse_chat_request("{not json", error));
}
