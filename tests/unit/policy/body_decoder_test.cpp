// Response bodies read out of the bytes after the head: Content-Length, chunked, until close.
#include "policy/body_decoder.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace proxy;

namespace {

/// Feeds `wire` in pieces of `step` bytes the way the relay does (unconsumed bytes are offered
/// again with the next piece) and returns the body, "<failed>" or "<incomplete>".
std::string decode(body_decoder d, const std::string &wire, std::size_t step) {
  std::string body, carry;
  for (std::size_t pos = 0; pos < wire.size() && !d.done() && !d.failed(); pos += step) {
    std::string buf = carry + wire.substr(pos, step);
    auto s = d.decode(buf.data(), buf.size());
    body.append(buf.data(), s.data);
    carry = buf.substr(s.consumed);
  }
  return d.failed() ? "<failed>" : d.done() ? body : "<incomplete>";
}

} // namespace

TEST_CASE("chunked bodies come out whole however the input is split") {
  const std::string wire = "7\r\nevent: \r\n"
                           "19;ext=1;other=\"x\"\r\ndata: {\"a\":1}\n\nevent: pin\r\n"
                           "3\r\ng\n\n\r\n"
                           "0\r\nx-trailer: dropped\r\n\r\n";
  const std::string body = "event: data: {\"a\":1}\n\nevent: ping\n\n";
  for (std::size_t step : {1u, 2u, 3u, 5u, 8u, 13u, 1000u}) {
    body_decoder d(body_decoder::framing::chunked);
    CHECK(decode(d, wire, step) == body);
  }
}

TEST_CASE("chunked: bare LF line ends are tolerated, trailers never reach the body") {
  body_decoder d(body_decoder::framing::chunked);
  std::string wire = "3\nabc\n0\ntrailer: x\n\n";
  CHECK(decode(d, wire, 4) == "abc");
}

TEST_CASE("chunked: bytes after the last chunk are left unconsumed") {
  body_decoder d(body_decoder::framing::chunked);
  std::string wire = "2\r\nhi\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
  std::string buf = wire;
  auto s = d.decode(buf.data(), buf.size());
  CHECK(d.done());
  CHECK(std::string(buf.data(), s.data) == "hi");
  CHECK(buf.size() - s.consumed == std::string("HTTP/1.1 200 OK\r\n").size());
}

TEST_CASE("chunked: malformed framing fails instead of guessing") {
  for (std::string wire :
       std::vector<std::string>{"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcX\r\n", "3 4\r\nabc\r\n",
                                "ffffffffffffffffffff\r\n", std::string(5000, '1')}) {
    body_decoder d(body_decoder::framing::chunked);
    CHECK(decode(d, wire, 7) == "<failed>");
  }
}

TEST_CASE("content-length bodies end after exactly that many bytes") {
  body_decoder d(body_decoder::framing::length, 5);
  std::string buf = "hello, more";
  auto s = d.decode(buf.data(), buf.size());
  CHECK(s.data == 5);
  CHECK(s.consumed == 5);
  CHECK(d.done());
  CHECK(body_decoder(body_decoder::framing::length, 0).done());
  CHECK(body_decoder().done()); // no body at all
}

TEST_CASE("a body until the connection closes takes everything") {
  body_decoder d(body_decoder::framing::until_close);
  std::string buf = "anything at all";
  auto s = d.decode(buf.data(), buf.size());
  CHECK(s.data == buf.size());
  CHECK_FALSE(d.done());
  CHECK(d.until_close());
}
