#include "response_parser.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

using loadgen::response_parser;
using status = loadgen::response_parser::status;

namespace {

const auto t0 = loadgen::clock::time_point{} + std::chrono::seconds(1000);

struct recorder final : loadgen::sse_observer {
  std::vector<std::string> names;
  std::vector<loadgen::clock::time_point> times;
  void on_event(std::string_view name, loadgen::clock::time_point at) override {
    names.emplace_back(name);
    times.push_back(at);
  }
};

std::string chunk(std::string_view data, std::string_view ext = "") {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + std::string(ext) + "\r\n" + std::string(data) + "\r\n";
}

const std::string sse_head = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/event-stream; charset=utf-8\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "\r\n";

std::string event(std::string_view name) {
  return "event: " + std::string(name) + "\ndata: {\"type\":\"" + std::string(name) + "\"}\n\n";
}

// A complete Messages stream with chunk extensions, a comment-only event, events split across
// chunks, and trailers.
std::string full_stream() {
  std::string body = event("message_start") + ": keep-alive comment\n\n" + event("ping") +
                     event("content_block_start") + event("content_block_delta") +
                     event("content_block_stop") + event("message_delta") + event("message_stop");
  std::string out = sse_head;
  // Uneven chunks so events straddle chunk boundaries.
  std::size_t pos = 0, step = 7;
  bool ext = false;
  while (pos < body.size()) {
    out += chunk(std::string_view(body).substr(pos, step), ext ? ";name=\"va;l\"" : "");
    pos += step;
    step = step * 3 % 41 + 5;
    ext = !ext;
  }
  out += "0;last\r\nX-Trailer: yes\r\nOther: 1\r\n\r\n";
  return out;
}

struct outcome {
  status state = status::need_more;
  std::size_t consumed = 0;
  int code = 0;
  bool keep_alive = false;
  std::uint64_t events = 0;
  bool completed = false;
  std::vector<std::string> names;
};

// Feeds `wire` in pieces of the given sizes (the last piece takes the rest).
outcome feed_pieces(const std::string &wire, const std::vector<std::size_t> &cuts) {
  recorder rec;
  response_parser p(&rec);
  outcome out;
  std::size_t pos = 0;
  for (std::size_t i = 0; i <= cuts.size() && pos <= wire.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : wire.size();
    const auto r = p.feed(std::string_view(wire).substr(pos, end - pos), t0);
    out.consumed += r.consumed;
    out.state = r.state;
    pos = end;
    if (r.state != status::need_more)
      break;
  }
  out.code = p.status_code();
  out.keep_alive = p.keep_alive();
  out.events = p.events();
  out.completed = p.stream_completed();
  out.names = rec.names;
  return out;
}

outcome feed_whole(const std::string &wire) {
  return feed_pieces(wire, {});
}

} // namespace

TEST_CASE("content-length response") {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Content-Length: 11\r\n\r\n{\"ok\":true}";
  response_parser p;
  auto r = p.feed(wire.substr(0, 20), t0);
  CHECK(r.state == status::need_more);
  CHECK(r.consumed == 20);
  CHECK(p.started());
  CHECK_FALSE(p.headers_done());
  r = p.feed(wire.substr(20), t0);
  CHECK(r.state == status::done);
  CHECK(r.consumed == wire.size() - 20);
  CHECK(p.status_code() == 200);
  CHECK(p.keep_alive());
  CHECK_FALSE(p.event_stream());
  CHECK_FALSE(p.chunked());
  CHECK(p.events() == 0);
  CHECK_FALSE(p.stream_completed()); // not a stream at all
}

TEST_CASE("bytes after the response are left unconsumed") {
  const std::string one = "HTTP/1.1 529 Overloaded\r\nContent-Length: 2\r\n\r\n{}";
  response_parser p;
  const auto r = p.feed(one + "HTTP/1.1 200 OK\r\n", t0);
  CHECK(r.state == status::done);
  CHECK(r.consumed == one.size());
  CHECK(p.status_code() == 529);

  // reset() makes the parser ready for the next response on the same connection.
  p.reset();
  CHECK_FALSE(p.started());
  const auto r2 = p.feed("HTTP/1.1 204 No Content\r\n\r\n", t0);
  CHECK(r2.state == status::done);
  CHECK(p.status_code() == 204);
}

TEST_CASE("chunked body with extensions and trailers") {
  const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" +
                           chunk("hello", ";a=b;c=\"d e\"") + chunk(" world", " ; x") +
                           "0 ;done=1\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n";
  response_parser p;
  const auto r = p.feed(wire, t0);
  CHECK(r.state == status::done);
  CHECK(r.consumed == wire.size());
  CHECK(p.chunked());
  CHECK(p.keep_alive());
}

TEST_CASE("chunked body with no trailers and bare LF line ends") {
  const std::string wire =
      "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\nA\n0123456789\n0\n\n";
  response_parser p;
  const auto r = p.feed(wire, t0);
  CHECK(r.state == status::done);
  CHECK(r.consumed == wire.size());
}

TEST_CASE("a full SSE stream gives the same result however it is split") {
  const std::string wire = full_stream();
  const std::vector<std::string> expected = {
      "message_start",      "ping",          "content_block_start", "content_block_delta",
      "content_block_stop", "message_delta", "message_stop"};
  const outcome whole = feed_whole(wire);
  REQUIRE(whole.state == status::done);
  CHECK(whole.consumed == wire.size());
  CHECK(whole.code == 200);
  CHECK(whole.events == 7); // the comment-only event is not counted
  CHECK(whole.names == expected);
  CHECK(whole.completed);

  // Every single split point.
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    const outcome o = feed_pieces(wire, {cut});
    INFO("split at " << cut);
    REQUIRE(o.state == status::done);
    CHECK(o.consumed == wire.size());
    CHECK(o.events == 7);
    CHECK(o.names == expected);
    CHECK(o.completed);
  }
  // One byte at a time.
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < wire.size(); ++i)
    every.push_back(i);
  const outcome bytewise = feed_pieces(wire, every);
  CHECK(bytewise.state == status::done);
  CHECK(bytewise.consumed == wire.size());
  CHECK(bytewise.names == expected);
  CHECK(bytewise.completed);
}

TEST_CASE("content-length response split at every byte boundary") {
  const std::string wire = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n"
                           "X-Long: " +
                           std::string(300, 'x') + "\r\n\r\nhello";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    const outcome o = feed_pieces(wire, {cut});
    INFO("split at " << cut);
    REQUIRE(o.state == status::done);
    CHECK(o.consumed == wire.size());
    CHECK(o.code == 200);
    CHECK(o.keep_alive); // HTTP/1.0 with Connection: keep-alive
  }
}

TEST_CASE("SSE line endings: CRLF, LF and CR, split between CR and LF") {
  const std::string body = "event: ping\r\ndata: {}\r\n\r\n"
                           "event: message_delta\rdata: {}\r\r"
                           ":comment\r\n\r\n"
                           "data: no name\n\n"
                           "event: message_stop\r\ndata: {}\r\n\r\n";
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::vector<std::string> expected = {"ping", "message_delta", "message", "message_stop"};
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    const outcome o = feed_pieces(wire, {cut});
    INFO("split at " << cut);
    REQUIRE(o.state == status::done);
    CHECK(o.names == expected);
    CHECK(o.completed);
  }
}

TEST_CASE("event names: spacing, empty name, long names") {
  recorder rec;
  loadgen::sse_counter c(&rec);
  c.feed("event:tight\ndata: 1\n\n", t0);
  c.feed("event:  two spaces\n\n", t0);          // only one space is dropped
  c.feed("event\ndata: x\n\n", t0);              // no colon: empty name, i.e. "message"
  c.feed("events: not-a-name\ndata: x\n\n", t0); // a different field
  c.feed("event: " + std::string(100, 'n') + "\n\n", t0);
  c.feed("id: 7\n\n", t0);            // any field makes an event
  c.feed(":only\n:comments\n\n", t0); // not an event
  c.feed("\n\n\n", t0);               // blank lines alone are not events
  REQUIRE(rec.names.size() == 6);
  CHECK(rec.names[0] == "tight");
  CHECK(rec.names[1] == " two spaces");
  CHECK(rec.names[2] == "message");
  CHECK(rec.names[3] == "message");
  CHECK(rec.names[4] == std::string(64, 'n')); // truncated
  CHECK(rec.names[5] == "message");
  CHECK(c.events() == 6);
}

TEST_CASE("event arrival times are the times of the bytes that completed them") {
  recorder rec;
  loadgen::sse_counter c(&rec);
  const auto t1 = t0 + std::chrono::milliseconds(20);
  const auto t2 = t0 + std::chrono::milliseconds(45);
  c.feed("event: a\ndata: 1\n", t0);
  c.feed("\nevent: b\n", t1);                                  // completes a at t1
  c.feed("data: 2\n\n", t2);                                   // completes b at t2
  c.feed("event: c\ndata: 3\n", t2 + std::chrono::seconds(1)); // never ends: not counted
  REQUIRE(rec.times.size() == 2);
  CHECK(rec.times[0] == t1);
  CHECK(rec.times[1] == t2);
  CHECK(c.events() == 2);
}

TEST_CASE("message_stop and error detection") {
  SECTION("an error event breaks the stream even if message_stop follows") {
    const std::string wire = sse_head + chunk(event("message_start") + event("error")) +
                             chunk(event("message_stop")) + "0\r\n\r\n";
    response_parser p;
    REQUIRE(p.feed(wire, t0).state == status::done);
    CHECK(p.saw_error_event());
    CHECK(p.last_event_was_message_stop());
    CHECK_FALSE(p.stream_completed());
  }
  SECTION("message_stop must be the last event") {
    const std::string wire = sse_head + chunk(event("message_stop") + event("ping")) + "0\r\n\r\n";
    response_parser p;
    REQUIRE(p.feed(wire, t0).state == status::done);
    CHECK_FALSE(p.saw_error_event());
    CHECK_FALSE(p.last_event_was_message_stop());
    CHECK_FALSE(p.stream_completed());
  }
  SECTION("a stream cut before the last chunk is not completed") {
    const std::string wire = sse_head + chunk(event("message_start") + event("message_stop"));
    response_parser p;
    CHECK(p.feed(wire, t0).state == status::need_more);
    CHECK(p.last_event_was_message_stop());
    CHECK_FALSE(p.stream_completed());
    CHECK(p.finish() == status::error); // the connection closed here
    CHECK_FALSE(p.stream_completed());
  }
  SECTION("a non-2xx event stream is not completed") {
    const std::string wire = "HTTP/1.1 500 Oops\r\nContent-Type: text/event-stream\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n" +
                             chunk(event("message_stop")) + "0\r\n\r\n";
    response_parser p;
    REQUIRE(p.feed(wire, t0).state == status::done);
    CHECK(p.events() == 1);
    CHECK_FALSE(p.stream_completed());
  }
}

TEST_CASE("body delimited by the connection close") {
  response_parser p;
  const auto r = p.feed(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + event("message_stop"), t0);
  CHECK(r.state == status::need_more);
  CHECK_FALSE(p.keep_alive());
  CHECK(p.finish() == status::done);
  CHECK(p.events() == 1);
  CHECK(p.stream_completed());
}

TEST_CASE("truncated content-length body is an error at close") {
  response_parser p;
  CHECK(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", t0).state == status::need_more);
  CHECK(p.finish() == status::error);
  CHECK(std::string(p.error_message()).find("closed") != std::string::npos);
}

TEST_CASE("nothing received, then closed") {
  response_parser p;
  CHECK_FALSE(p.started());
  CHECK(p.finish() == status::error);
}

TEST_CASE("interim 1xx responses are skipped") {
  const std::string wire = "HTTP/1.1 100 Continue\r\n\r\n"
                           "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  response_parser p;
  const auto r = p.feed(wire, t0);
  CHECK(r.state == status::done);
  CHECK(r.consumed == wire.size());
  CHECK(p.status_code() == 200);
}

TEST_CASE("connection semantics") {
  response_parser p;
  REQUIRE(p.feed("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", t0).state ==
          status::done);
  CHECK_FALSE(p.keep_alive());
  p.reset();
  REQUIRE(p.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", t0).state == status::done);
  CHECK_FALSE(p.keep_alive()); // HTTP/1.0 default
  p.reset();
  REQUIRE(p.feed("HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n", t0).state == status::done);
  CHECK(p.keep_alive());
  CHECK(p.status_code() == 200); // no reason phrase
}

TEST_CASE("protocol errors") {
  const char *bad[] = {
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "ICY 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
      "HTTP/1.1 101 Switching Protocols\r\n\r\n",
  };
  for (const char *wire : bad) {
    INFO(wire);
    response_parser p;
    const auto r = p.feed(wire, t0);
    CHECK(r.state == status::error);
    CHECK(std::string(p.error_message()).size() > 0);
  }
}

TEST_CASE("an endless header is refused") {
  response_parser p;
  CHECK(p.feed("HTTP/1.1 200 OK\r\nX-Big: ", t0).state == status::need_more);
  const std::string filler(8192, 'a');
  status last = status::need_more;
  for (int i = 0; i < 64 && last == status::need_more; ++i)
    last = p.feed(filler, t0).state;
  CHECK(last == status::error);
}
