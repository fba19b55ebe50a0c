#pragma once
// Pure, deterministic building blocks of the upstream simulator: what a scenario answers
// (as SSE events or as one JSON message), request inspection, fault parsing, error bodies.
// Nothing here does I/O, so all of it is unit-testable.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

enum class scenario { text, tool_use, thinking };

// "text" | "tool_use" | "thinking"; nullopt for anything else.
std::optional<scenario> parse_scenario(std::string_view name);
std::string_view scenario_name(scenario s);

struct scenario_params {
  scenario kind = scenario::text;
  std::string message_id = "msg_sim_1";
  std::string model = "claude-sonnet-4-6";
  std::int64_t input_tokens = 1;
  int text_chunks = 4;         // text_delta events of the main text block (at least 1)
  std::size_t chunk_size = 12; // characters per text_delta (at least 1)
  std::string tool_name = "get_weather";
};

struct sse_event {
  std::string type; // the SSE event name, equal to the JSON "type"; empty: no event line
  std::string data; // one-line JSON
  // "event: <type>\ndata: <data>\n\n", or "data: <data>\n\n" without a type
  std::string wire() const;
};

// message_start, ping, the content blocks, message_delta, message_stop.
std::vector<sse_event> build_events(const scenario_params &p);
// The same content as one non-streamed Messages API response.
std::string build_message_json(const scenario_params &p);

// The OpenAI-compatible Chat Completions answer the upstream also offers, streamed as data-only
// chat.completion.chunk events ending with "data: [DONE]", or as one chat.completion object.
// scenario::tool_use answers what the Messages tool_use scenario does, in OpenAI's shape: the
// short text as message.content and one call of p.tool_name in message.tool_calls
// ({"id":"call_<message_id>","type":"function","function":{"name":..,"arguments":"<JSON>"}}),
// finish_reason "tool_calls"; streamed, the call's first chunk carries index, id, type, name and
// empty arguments and the following chunks the argument fragments. Any other scenario answers
// text with finish_reason "stop". usage (prompt_tokens = p.input_tokens) is in the
// non-streamed answer; a stream carries it only with include_usage (stream_options.include_usage)
// as OpenAI does: "usage":null on every chunk, then one more chunk with empty choices and the
// usage before [DONE].
std::vector<sse_event> build_chat_events(const scenario_params &p, bool include_usage = false);
std::string build_chat_json(const scenario_params &p);

// Deterministic stand-in for a tokenizer: request body characters / 4 + 1.
std::int64_t estimate_input_tokens(std::string_view body);

// What the simulator needs from a /v1/messages or count_tokens body.
struct message_request {
  std::string model;
  bool stream = false;
  scenario derived = scenario::text; // from tools / thinking, before any x-sim-scenario
  std::string first_tool_name;       // empty without tools
};

// Validates the body (JSON object, string model, array messages and, when
// require_max_tokens, a positive integer max_tokens). On failure returns nullopt and
// sets error to a message in the upstream's style.
std::optional<message_request> parse_message_request(std::string_view body, bool require_max_tokens,
                                                     std::string &error);

// What the simulator needs from a /v1/chat/completions body (OpenAI's shape).
struct chat_request {
  std::string model;
  bool stream = false;
  bool include_usage = false; // stream_options.include_usage
  // tool_use when `tools` is a non-empty array and tool_choice is not "none", else text.
  scenario derived = scenario::text;
  // The function tool_choice names ({"type":"function","function":{"name":..}}), else the
  // first tool's function.name; empty when neither is a string.
  std::string tool_name;
};

// Validates like parse_message_request without max_tokens (JSON object, string model, array
// messages).
std::optional<chat_request> parse_chat_request(std::string_view body, std::string &error);

// x-sim-fault header: "status=<code>[;retry-after=<s>]", "reset-before-headers",
// "reset-mid-stream", "stall", "stall-mid-stream", "extra-usage" (the 400 with which the
// upstream refuses third-party use of a subscription without extra usage).
struct fault {
  enum class kind {
    none,
    status,
    reset_before_headers,
    reset_mid_stream,
    stall,
    stall_mid_stream,
    extra_usage
  };
  kind what = kind::none;
  int status = 0;
  std::optional<long> retry_after_s;
};
// Empty header -> kind::none; malformed -> nullopt.
std::optional<fault> parse_fault(std::string_view header);

// Anthropic error type for an HTTP status (api_error for unknown 5xx, invalid_request_error
// for unknown 4xx).
std::string_view error_type_for_status(int status);
// A plausible upstream message for a status, used by status faults.
std::string_view default_error_message(int status);
// The message of the upstream's refusal of third-party use of a subscription credential (the
// part public reports quote).
inline constexpr std::string_view k_extra_usage_message =
    "Third-party apps now draw from your extra usage, not your plan limits.";
// {"type":"error","error":{"type":..,"message":..},"request_id":..}
std::string error_json(std::string_view type, std::string_view message,
                       std::string_view request_id);

} // namespace sim
