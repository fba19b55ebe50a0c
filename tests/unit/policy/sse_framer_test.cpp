#include "policy/sse_framer.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace proxy;

namespace {
const std::string stream =
    "event: message_start\ndata: "
    "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":"
    "25,\"cache_read_input_tokens\":7,\"output_tokens\":1}}}\n\n"
    ": a comment line\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{"
    "\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDYF\"}}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n"
    "event: brand_new_event\ndata: {\"type\":\"brand_new_event\"}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
} // namespace

TEST_CASE("events come out whole and byte for byte, however the input is split") {
  for (std::size_t step : {1u, 2u, 3u, 7u, 64u, 100000u}) {
    sse_framer f;
    std::string out;
    for (std::size_t i = 0; i < stream.size(); i += step) {
      auto piece = f.feed(std::string_view(stream).substr(i, step));
      // Everything released ends at an event boundary.
      if (!piece.empty())
        CHECK(piece.substr(piece.size() - 2) == "\n\n");
      out.append(piece);
    }
    out.append(f.flush());
    f.release();
    CHECK(out == stream);
    CHECK(f.pending() == 0); // nothing held once every event went out
    CHECK(f.usage().input_tokens == 25);
    CHECK(f.usage().cache_read_input_tokens == 7);
    CHECK(f.usage().output_tokens == 15);
    CHECK(f.saw_message_stop());
    CHECK_FALSE(f.saw_error_event());
    CHECK(f.events() == 6);
  }
}

TEST_CASE("whole events are handed out as a view of the input, nothing copied") {
  sse_framer f;
  std::string input = "event: ping\ndata: {}\n\nevent: message_stop\ndata: {}\n\nevent: par";
  auto out = f.feed(input);
  CHECK(out.data() == input.data()); // the same bytes, not a copy
  CHECK(out.size() == input.size() - std::string("event: par").size());
  CHECK(f.pending() == std::string("event: par").size());
  auto rest = f.feed("tial\ndata: {}\n\n");
  CHECK(rest == "event: partial\ndata: {}\n\n");
  CHECK(f.pending() == 0);
  CHECK(f.events() == 3);
}

TEST_CASE("CRLF line endings are events too") {
  sse_framer f;
  std::string crlf = "event: message_stop\r\ndata: {}\r\n\r\nevent: ping\r\ndata: {}\r\n\r\n";
  CHECK(f.feed(crlf) == crlf);
  CHECK(f.saw_message_stop());
  CHECK(f.events() == 2);
}

TEST_CASE("a partial event is held back until its end; an oversized one is released") {
  sse_framer f(16);
  CHECK(f.feed("event: ping\nda").empty());
  CHECK_FALSE(f.mid_event());
  auto big = f.feed("ta: {\"type\":\"ping\", \"padding\":\"xxxxxxxx\"}");
  CHECK(big == "event: ping\ndata: {\"type\":\"ping\", \"padding\":\"xxxxxxxx\"}");
  CHECK(f.mid_event());
  CHECK(f.feed("\n\n") == "\n\n");
  CHECK_FALSE(f.mid_event());
}

TEST_CASE("error events are noticed and built well-formed") {
  sse_framer f;
  f.feed("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\n\n");
  CHECK(f.saw_error_event());
  CHECK(sse_error_event("api_error", "upstream \"broke\"") ==
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":"
        "\"upstream \\\"broke\\\"\"}}\n\n");
}

TEST_CASE("usage of a non-stream message") {
  usage u;
  read_usage_json(R"({"type":"message","usage":{"input_tokens":3,"output_tokens":9}})", u);
  CHECK(u.input_tokens == 3);
  CHECK(u.output_tokens == 9);
  usage untouched;
  read_usage_json("not json", untouched);
  CHECK(untouched.input_tokens == 0);
}

TEST_CASE("usage of chat completions: prompt and completion tokens, whole and streamed") {
  usage u;
  read_usage_json(R"({"object":"chat.completion","choices":[{"message":{"content":"hi"}}],)"
                  R"("usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}})",
                  u);
  CHECK(u.input_tokens == 12);
  CHECK(u.output_tokens == 5);

  sse_framer f;
  f.feed(R"(data: {"choices":[{"delta":{"content":"hi"}}]})"
         "\n\n"
         R"(data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2}})"
         "\n\ndata: [DONE]\n\n");
  CHECK(f.usage().input_tokens == 7);
  CHECK(f.usage().output_tokens == 2);
}

TEST_CASE("sse_framer: an overloaded error before content, and content that began") {
  const std::string start = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n";
  const std::string ping = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
  const std::string overloaded = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                                 "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
  const std::string other_error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                                  "\"api_error\",\"message\":\"x\"}}\n\n";
  const std::string block =
      "event: content_block_start\ndata: {\"type\":\"content_block_start\"}\n\n";
  {
    proxy::sse_framer f;
    f.feed(start + ping);
    CHECK_FALSE(f.content_started());
    CHECK_FALSE(f.overloaded_before_content());
    f.feed(overloaded);
    CHECK(f.overloaded_before_content());
  }
  {
    proxy::sse_framer f;
    f.feed(start + block + overloaded);
    CHECK(f.content_started());
    CHECK_FALSE(f.overloaded_before_content());
  }
  {
    proxy::sse_framer f;
    f.feed(start + other_error);
    CHECK_FALSE(f.overloaded_before_content());
    CHECK(f.saw_error_event());
  }
  CHECK(proxy::error_type_of("{\"error\":{\"type\":\"overloaded_error\"}}") == "overloaded_error");
  CHECK(proxy::error_type_of("{\"error\":\"overloaded_error\"}").empty());
  CHECK(proxy::error_type_of("not json").empty());
}
