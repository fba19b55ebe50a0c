// loadgen against the upstream simulator in this process. A text stream from the simulator has
// 6 + text_chunks events, one event_delay apart.
#include "loadgen.hpp"
#include "sim/simulator.hpp"
#include "stats.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t k_events_per_stream = 6 + 4; // text_chunks = 4

struct simulator {
  sim::server server{options()};
  simulator() { server.start(); }
  static sim::options options() {
    sim::options so;
    so.event_delay = std::chrono::milliseconds(20);
    so.text_chunks = 4;
    return so;
  }
};

loadgen::options base(const sim::server &s) {
  loadgen::options o;
  o.url = s.base_url();
  o.key = "sk-test";
  o.timeout_s = 10;
  return o;
}

// Answers each connection's first request with a fixed reply, then closes the connection, so
// tests can script what no well-behaved server does.
class scripted_server {
public:
  explicit scripted_server(std::string reply) : reply_(std::move(reply)) {
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~scripted_server() {
    ioc_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int connections() const { return connections_.load(); }

private:
  using tcp = boost::asio::ip::tcp;

  struct connection : std::enable_shared_from_this<connection> {
    tcp::socket socket;
    const std::string &reply;
    std::string received;
    char buf[4096];
    connection(tcp::socket s, const std::string &r) : socket(std::move(s)), reply(r) {}

    // The request is whole once its headers and Content-Length bytes are in.
    bool whole() const {
      const auto end = received.find("\r\n\r\n");
      if (end == std::string::npos)
        return false;
      const auto cl = received.find("content-length: ");
      const std::size_t length = cl < end ? std::stoul(received.substr(cl + 16)) : 0;
      return received.size() >= end + 4 + length;
    }
    void read() {
      socket.async_read_some(
          boost::asio::buffer(buf),
          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec)
              return;
            self->received.append(self->buf, n);
            if (self->whole())
              self->respond();
            else
              self->read();
          });
    }
    void respond() {
      boost::asio::async_write(socket, boost::asio::buffer(reply),
                               [self = shared_from_this()](boost::system::error_code, std::size_t) {
                                 boost::system::error_code ignored;
                                 self->socket.shutdown(tcp::socket::shutdown_both, ignored);
                                 self->socket.close(ignored);
                               });
    }
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec)
        return;
      ++connections_;
      std::make_shared<connection>(std::move(s), reply_)->read();
      accept();
    });
  }

  std::string reply_;
  boost::asio::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void check_no_errors(const loadgen::summary &s) {
  CHECK(s.error.empty());
  CHECK(s.status_errors.empty());
  CHECK(s.connect_errors == 0);
  CHECK(s.reset_errors == 0);
  CHECK(s.timeout_errors == 0);
  CHECK(s.protocol_errors == 0);
}

} // namespace

TEST_CASE("closed loop, non-stream: counts, request contents, keep-alive reuse") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 4;
  o.requests = 40;
  o.headers = {"x-extra: 1", "anthropic-version: 2099-01-01"};
  const auto s = loadgen::run(o);

  check_no_errors(s);
  CHECK(s.requests == 40);
  CHECK(s.ok == 40);
  CHECK(s.latency_ms.count == 40);
  CHECK(s.ttfb_ms.count == 40);
  CHECK(s.latency_ms.p50 > 0);
  CHECK(s.ttfb_ms.p50 <= s.latency_ms.p50);
  CHECK(s.latency_ms.p50 <= s.latency_ms.p90);
  CHECK(s.latency_ms.p99 <= s.latency_ms.max);
  CHECK(s.rps > 0);
  CHECK(s.events == 0);
  CHECK(s.streams_completed + s.streams_broken == 0);

  const auto recorded = sim.server.requests();
  REQUIRE(recorded.size() == 40);
  const auto &r = recorded.front();
  CHECK(r.method == "POST");
  CHECK(r.target == "/v1/messages");
  CHECK(r.header("x-api-key") == "sk-test");
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.header("anthropic-version") == "2099-01-01"); // --header replaces the default
  CHECK(r.header("x-extra") == "1");
  CHECK(r.body == R"({"model":"claude-sonnet-4-6","max_tokens":64,"stream":false,)"
                  R"("messages":[{"role":"user","content":"Hello there"}]})");
  // One keep-alive connection per client, reused for every request.
  CHECK(sim.server.connections_accepted() == 4);
}

TEST_CASE("streams: events counted and gaps measured against the known delay") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 5;
  o.requests = 10;
  o.stream = true;
  const auto s = loadgen::run(o);

  check_no_errors(s);
  CHECK(s.requests == 10);
  CHECK(s.ok == 10);
  CHECK(s.streams_completed == 10);
  CHECK(s.streams_broken == 0);
  CHECK(s.events == 10 * k_events_per_stream);
  CHECK(s.events_per_stream_min == k_events_per_stream);
  CHECK(s.events_per_stream_max == k_events_per_stream);
  CHECK(s.gap_ms.count == 10 * (k_events_per_stream - 1));
  CHECK(s.gap_ms.p50 >= 18);
  CHECK(s.gap_ms.p50 <= 60);
  CHECK(s.gap_ms.max >= s.gap_ms.p99);
  // A stream lasts 9 delays; its first byte comes long before its end.
  CHECK(s.latency_ms.p50 >= 170);
  CHECK(s.latency_ms.p50 < 2000);
  CHECK(s.ttfb_ms.p50 < s.latency_ms.p50 / 2);
  CHECK(s.events_per_s > 0);
  CHECK(sim.server.requests().front().body.find(R"("stream":true)") != std::string::npos);
}

TEST_CASE("x-sim-event-delay-ms changes the measured gap") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 2;
  o.requests = 2;
  o.stream = true;
  o.headers = {"x-sim-event-delay-ms: 50"};
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.streams_completed == 2);
  CHECK(s.gap_ms.p50 >= 45);
  CHECK(s.gap_ms.p50 <= 150);
  CHECK(s.latency_ms.p50 >= 9 * 45);
}

TEST_CASE("non-2xx statuses are counted per code") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 3;
  o.requests = 9;
  o.headers = {"x-sim-fault: status=529"};
  const auto s = loadgen::run(o);
  CHECK(s.requests == 9);
  CHECK(s.ok == 0);
  REQUIRE(s.status_errors.size() == 1);
  CHECK(s.status_errors.at(529) == 9);
  CHECK(s.latency_ms.count == 9); // whole responses, whatever their status
  CHECK(s.connect_errors + s.reset_errors + s.timeout_errors + s.protocol_errors == 0);
}

TEST_CASE("a stalled request times out and the run still ends") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 2;
  o.requests = 2;
  o.timeout_s = 0.3;
  o.headers = {"x-sim-fault: stall"};
  const auto started = std::chrono::steady_clock::now();
  const auto s = loadgen::run(o);
  const double took = seconds_since(started);
  CHECK(s.requests == 2);
  CHECK(s.timeout_errors == 2);
  CHECK(s.ok == 0);
  CHECK(took >= 0.3);
  CHECK(took < 3);
}

TEST_CASE("a stream stalled mid-way is broken by timeout") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 2;
  o.requests = 2;
  o.stream = true;
  o.timeout_s = 0.4;
  o.headers = {"x-sim-fault: stall-mid-stream"};
  const auto s = loadgen::run(o);
  CHECK(s.requests == 2);
  CHECK(s.timeout_errors == 2);
  CHECK(s.streams_completed == 0);
  CHECK(s.streams_broken == 2);
  CHECK(s.broken.timeout == 2);
  CHECK(s.events == 2 * 3); // the simulator sends three events, then stalls
}

TEST_CASE("a stream reset mid-way is broken as closed") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 2;
  o.requests = 2;
  o.stream = true;
  o.headers = {"x-sim-fault: reset-mid-stream"};
  const auto s = loadgen::run(o);
  CHECK(s.requests == 2);
  CHECK(s.reset_errors == 2);
  CHECK(s.streams_completed == 0);
  CHECK(s.broken.closed == 2);
  // Four events go out before the reset; the first three are 20 ms older than it.
  CHECK(s.events_per_stream_min >= 3);
  CHECK(s.events_per_stream_max <= 4);
}

TEST_CASE("the server closing every connection makes clients reconnect") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 2;
  o.requests = 10;
  o.headers = {"connection: close"};
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.ok == 10);
  CHECK(sim.server.connections_accepted() == 10);
}

TEST_CASE("open loop: a connection the server closed while idle is replaced, not an error") {
  scripted_server server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  loadgen::options o;
  o.url = server.url();
  o.clients = 1;
  o.requests = 4;
  o.rate = 20; // 50 ms apart: each connection is closed well before the next request
  o.timeout_s = 5;
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.ok == 4);
  CHECK(server.connections() == 4);
}

TEST_CASE("a connection closed without notice under a back-to-back request is a reset") {
  scripted_server server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  loadgen::options o;
  o.url = server.url();
  o.clients = 1;
  o.requests = 3; // ok, then reset on the dead connection, then ok on a new one
  o.timeout_s = 5;
  const auto s = loadgen::run(o);
  CHECK(s.requests == 3);
  CHECK(s.ok == 2);
  CHECK(s.reset_errors == 1);
  CHECK(server.connections() == 2);
}

TEST_CASE("a body delimited by the close ends the response") {
  scripted_server server("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                         "event: message_start\ndata: {}\n\nevent: message_stop\ndata: {}\n\n");
  loadgen::options o;
  o.url = server.url();
  o.clients = 2;
  o.requests = 4;
  o.timeout_s = 5;
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.ok == 4);
  CHECK(s.streams_completed == 4);
  CHECK(s.events == 8);
}

TEST_CASE("unparsable, overlong and truncated responses") {
  loadgen::options o;
  o.clients = 2;
  o.requests = 4;
  o.timeout_s = 5;
  SECTION("garbage") {
    scripted_server server("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    o.url = server.url();
    const auto s = loadgen::run(o);
    CHECK(s.protocol_errors == 4);
    CHECK(s.ok == 0);
  }
  SECTION("bytes after the response") {
    scripted_server server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
    o.url = server.url();
    const auto s = loadgen::run(o);
    CHECK(s.protocol_errors == 4);
    CHECK(s.ok == 0);
  }
  SECTION("closed before the end of the body") {
    scripted_server server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    o.url = server.url();
    const auto s = loadgen::run(o);
    CHECK(s.reset_errors == 4);
    CHECK(s.ok == 0);
    CHECK(s.ttfb_ms.count == 4);
    CHECK(s.latency_ms.count == 0);
  }
}

TEST_CASE("connect failures are counted and the run ends") {
  std::uint16_t port = 0;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  } // closed: nothing listens there now
  loadgen::options o;
  o.url = "http://127.0.0.1:" + std::to_string(port);
  o.clients = 3;
  o.requests = 6;
  o.timeout_s = 2;
  const auto s = loadgen::run(o);
  CHECK(s.error.empty());
  CHECK(s.requests == 6);
  CHECK(s.connect_errors == 6);
  CHECK(s.ok == 0);
  CHECK(s.ttfb_ms.count == 0);
}

TEST_CASE("duration bounds the run") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 4;
  o.duration_s = 0.5;
  const auto started = std::chrono::steady_clock::now();
  const auto s = loadgen::run(o);
  const double took = seconds_since(started);
  check_no_errors(s);
  CHECK(took >= 0.5);
  CHECK(took < 3);
  CHECK(s.duration_s >= 0.5);
  CHECK(s.requests > 10);
  CHECK(s.ok == s.requests);
  CHECK(sim.server.requests().size() == s.requests);
}

TEST_CASE("open loop: requests are spread at the rate") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 2;
  o.requests = 20;
  o.rate = 40; // the last of 20 slots is at 19/40 s
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.ok == 20);
  CHECK(s.duration_s >= 0.47);
  CHECK(s.duration_s < 2);
}

TEST_CASE("open loop: latency counts the wait for a busy client (no coordinated omission)") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 1;
  o.requests = 8;
  o.rate = 100; // a slot every 10 ms
  o.stream = true;
  o.headers = {"x-sim-event-delay-ms: 10"}; // but each stream takes ~90 ms
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.ok == 8);
  // Slot k starts ~k * 90 ms late; its latency is ~90 + k * 80 ms. Closed loop would say ~90.
  CHECK(s.latency_ms.p50 >= 250);
  CHECK(s.latency_ms.max >= 500);
  CHECK(s.ttfb_ms.max >= 450);
}

TEST_CASE("open loop with a duration: slots no client was free for are reported") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 1;
  o.rate = 100;
  o.duration_s = 0.5; // 50 slots
  o.stream = true;
  o.headers = {"x-sim-event-delay-ms: 10"};
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.requests + s.not_started == 50);
  CHECK(s.requests >= 3);
  CHECK(s.not_started >= 30);
}

TEST_CASE("several threads, many concurrent streams, one connect at a time") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 200;
  o.requests = 400;
  o.threads = 3;
  o.max_connecting = 1;
  o.stream = true;
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.requests == 400);
  CHECK(s.ok == 400);
  CHECK(s.streams_completed == 400);
  CHECK(s.events == 400 * k_events_per_stream);
  CHECK(s.gap_ms.count == 400 * (k_events_per_stream - 1));
  CHECK(sim.server.requests().size() == 400);
  CHECK(sim.server.connections_accepted() == 200);
}

TEST_CASE("bad options are refused") {
  loadgen::options o;
  o.clients = 1;
  o.url = "https://api.anthropic.com";
  CHECK(loadgen::check(o).find("https is not supported") != std::string::npos);
  CHECK(loadgen::run(o).error.find("https") != std::string::npos);
  o.url = "http://127.0.0.1:notaport";
  CHECK_FALSE(loadgen::check(o).empty());
  o.url = "http://127.0.0.1:8080";
  CHECK(loadgen::check(o).empty());
  o.headers = {"no colon"};
  CHECK(loadgen::check(o).find("--header") != std::string::npos);
  o.headers = {"content-length: 5"};
  CHECK_FALSE(loadgen::check(o).empty());
  o.headers = {};
  o.path = "v1/messages";
  CHECK(loadgen::check(o).find("--path") != std::string::npos);
  o.path = "/v1/messages";
  o.timeout_s = 0;
  CHECK(loadgen::check(o).find("--timeout") != std::string::npos);
  o.timeout_s = 1;
  o.rate = -1;
  CHECK(loadgen::check(o).find("--rate") != std::string::npos);
  o.rate = 0;
  o.duration_s = 0;
  CHECK(loadgen::check(o).find("--duration") != std::string::npos);
  o.duration_s.reset();
  o.clients = 0;
  CHECK(loadgen::check(o).find("--clients") != std::string::npos);
}

TEST_CASE("a URL path prefix and --path make the target") {
  simulator sim;
  auto o = base(sim.server);
  o.url = sim.server.base_url() + "/";
  o.path = "/v1/messages";
  o.body = R"({"model":"claude-sonnet-4-6","max_tokens":8,"messages":[]})";
  o.requests = 1;
  const auto s = loadgen::run(o);
  CHECK(s.ok == 1);
  const auto recorded = sim.server.requests();
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].target == "/v1/messages");
  CHECK(recorded[0].body == *o.body);
}

TEST_CASE("a body larger than the socket buffer is written in full") {
  simulator sim;
  auto o = base(sim.server);
  o.clients = 2;
  o.requests = 4;
  o.body = R"({"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":")" +
           std::string(8 << 20, 'x') + R"("}]})";
  const auto s = loadgen::run(o);
  check_no_errors(s);
  CHECK(s.ok == 4);
  const auto recorded = sim.server.requests();
  REQUIRE(recorded.size() == 4);
  CHECK(recorded.back().body == *o.body);
}

TEST_CASE("JSON and text reports carry the summary") {
  loadgen::summary s;
  s.requests = 10;
  s.ok = 8;
  s.duration_s = 2;
  s.rps = 5;
  s.ttfb_ms = {10, 0.052, 0.081, 0.15, 1.203456};
  s.latency_ms = {10, 1, 2, 3, 4};
  s.events = 30;
  s.events_per_s = 15;
  s.events_per_stream_min = 3;
  s.events_per_stream_max = 10;
  s.streams_completed = 2;
  s.streams_broken = 1;
  s.broken.closed = 1;
  s.status_errors[529] = 1;
  s.reset_errors = 1;

  rapidjson::Document d;
  d.Parse(loadgen::to_json(s).c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(d["requests"].GetUint64() == 10);
  CHECK(d["ok"].GetUint64() == 8);
  CHECK(d["duration_s"].GetDouble() == Approx(2));
  CHECK(d["rps"].GetDouble() == Approx(5));
  CHECK(d["ttfb_ms"]["p50"].GetDouble() == Approx(0.052));
  CHECK(d["ttfb_ms"]["max"].GetDouble() == Approx(1.203456));
  CHECK(d["latency_ms"]["p99"].GetDouble() == Approx(3));
  CHECK(d["gap_ms"]["p50"].IsNull()); // no samples
  CHECK(d["events"]["total"].GetUint64() == 30);
  CHECK(d["events"]["per_s"].GetDouble() == Approx(15));
  CHECK(d["events"]["per_stream_min"].GetUint64() == 3);
  CHECK(d["events"]["per_stream_max"].GetUint64() == 10);
  CHECK(d["streams"]["completed"].GetUint64() == 2);
  CHECK(d["streams"]["broken"].GetUint64() == 1);
  CHECK(d["streams"]["broken_reasons"]["closed"].GetUint64() == 1);
  CHECK(d["streams"]["broken_reasons"]["error_event"].GetUint64() == 0);
  CHECK(d["errors"]["status"]["529"].GetUint64() == 1);
  CHECK(d["errors"]["reset"].GetUint64() == 1);
  CHECK(d["errors"]["connect"].GetUint64() == 0);
  CHECK(d["errors"]["timeout"].GetUint64() == 0);
  CHECK(d["errors"]["protocol"].GetUint64() == 0);

  const std::string text = loadgen::to_text(s);
  CHECK(text.find("p50 0.052  p90 0.081  p99 0.150  max 1.203") != std::string::npos);
  CHECK(text.find("2 completed, 1 broken (closed 1)") != std::string::npos);
  CHECK(text.find("status 529: 1, reset 1") != std::string::npos);
}

TEST_CASE("nearest-rank percentiles are exact") {
  loadgen::raw_stats r;
  for (int ms = 100; ms >= 1; --ms) // unsorted on purpose
    r.latency_ns.push_back(ms * 1'000'000LL);
  r.ttfb_ns = {3'000, 1'000, 2'000}; // 1, 2, 3 microseconds
  r.gap_ns = {52'123};
  const auto s = loadgen::summarize(r, 1.0);
  CHECK(s.latency_ms.count == 100);
  CHECK(s.latency_ms.p50 == 50);
  CHECK(s.latency_ms.p90 == 90);
  CHECK(s.latency_ms.p99 == 99);
  CHECK(s.latency_ms.max == 100);
  CHECK(s.ttfb_ms.p50 == Approx(0.002)); // rank ceil(1.5) = 2
  CHECK(s.ttfb_ms.p90 == Approx(0.003));
  CHECK(s.ttfb_ms.max == Approx(0.003));
  CHECK(s.gap_ms.p50 == Approx(0.052123)); // microsecond resolution survives
  CHECK(s.gap_ms.max == Approx(0.052123));
  CHECK(s.events_per_stream_min == 0); // no streams
}
