// The API families beyond Messages: passed through by the table in policy/request_check.cpp,
// request bodies streamed upstream as they arrive, batch results_url pointing at the proxy.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace testing;

namespace {

const header_list api_key = {{"x-api-key", "unused"}};

/// The last request the simulator received.
sim::recorded_request last_upstream_request(rig &r) {
  auto all = r.upstream->requests();
  REQUIRE(!all.empty());
  return all.back();
}

/// "size\r\ndata\r\n" for each piece, then the last chunk.
std::string chunked(const std::vector<std::string> &pieces) {
  std::string out;
  char line[32];
  for (const auto &p : pieces) {
    std::snprintf(line, sizeof line, "%zx\r\n", p.size());
    out += line + p + "\r\n";
  }
  return out + "0\r\n\r\n";
}

} // namespace

TEST_CASE("each family goes upstream with its method, path and query as the client sent them") {
  auto r = rig::with_api_key();
  r->start_proxy();
  struct row {
    http::verb method;
    const char *target;
  };
  const row rows[] = {
      {http::verb::get, "/v1/files?beta=true&limit=3"},
      {http::verb::delete_, "/v1/messages/batches/msgbatch_x"},
      {http::verb::get, "/v1/skills?beta=true"},
      {http::verb::get, "/v1/sessions/sesn_1/events?beta=true"},
  };
  for (const auto &row : rows) {
    INFO(row.target);
    auto res = call(r->port, row.method, row.target, "", api_key);
    auto up = last_upstream_request(*r);
    CHECK(up.method == std::string(http::to_string(row.method)));
    CHECK(up.target == row.target);
    CHECK(up.header("x-api-key") == "sim-upstream-key");
    CHECK(res.body == up.response_body); // whatever the simulator said, relayed
  }
  auto before = r->upstream->requests().size();
  auto res = call(r->port, http::verb::get, "/v1/organizations/me", "", api_key);
  CHECK(res.status == 404);
  CHECK(r->upstream->requests().size() == before); // not listed: never reaches the upstream
}

TEST_CASE("a chunked request body is streamed upstream piece by piece and arrives whole") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  c.send("POST /v1/agents?beta=true HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::vector<std::string> pieces = {R"({"name":"a)", std::string(70000, 'b'), R"("})"};
  std::string body;
  for (const auto &p : pieces) {
    c.send(chunked({p}).substr(0, chunked({p}).size() - 5)); // without the last chunk
    body += p;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  c.send("0\r\n\r\n");
  auto answer = c.read_until("\r\n\r\n", std::chrono::seconds(5));
  CHECK(answer.substr(0, 9) == "HTTP/1.1 ");
  auto up = last_upstream_request(*r);
  CHECK(up.target == "/v1/agents?beta=true");
  CHECK(up.body == body);
  CHECK(up.header("transfer-encoding") == "chunked");
  CHECK(up.header("content-length").empty());
}

TEST_CASE("a streamed body with a Content-Length goes upstream with that length") {
  auto r = rig::with_api_key();
  r->start_proxy();
  std::string body(300000, 'z');
  auto res = call(r->port, http::verb::post, "/v1/skills", body,
                  {{"x-api-key", "k"}, {"content-type", "application/octet-stream"}});
  auto up = last_upstream_request(*r);
  CHECK(up.body == body);
  CHECK(up.header("content-length") == std::to_string(body.size()));
  CHECK(res.body == up.response_body);
}

TEST_CASE("a declared body beyond its family's limit is refused from the head alone") {
  auto r = rig::with_api_key();
  r->start_proxy();
  struct row {
    const char *target;
    std::uint64_t length;
    unsigned status;
  };
  const row rows[] = {
      {"/v1/files", 500ull << 20 | 1, 413},
      {"/v1/messages/batches", (256ull << 20) + 1, 413},
      {"/v1/messages", (32ull << 20) + 1, 413},
  };
  for (const auto &row : rows) {
    INFO(row.target);
    raw_client c(r->port);
    c.send(std::string("POST ") + row.target + " HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n" +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(row.length) +
           "\r\n\r\n");
    auto answer = c.read_until("}}", std::chrono::seconds(5));
    CHECK(answer.substr(0, 12) == "HTTP/1.1 413");
    CHECK(answer.find("request_too_large") != std::string::npos);
  }
  CHECK(r->upstream->requests().empty());
}

TEST_CASE("a malformed chunked upload gets a 400 and the connection closes") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  c.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
         "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4\r\nabcd\r\nzz\r\n");
  auto answer = c.read_until("}}", std::chrono::seconds(5));
  CHECK(answer.substr(0, 12) == "HTTP/1.1 400");
  CHECK(answer.find("Malformed chunked request body") != std::string::npos);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(c.closed_by_peer(std::chrono::seconds(5)));
}

TEST_CASE(
    "an upload that stops midway: both connections close once the client idle timeout passes") {
  auto r = rig::with_api_key();
  r->cfg.client_idle_timeout = std::chrono::seconds(1);
  r->start_proxy();
  raw_client c(r->port);
  c.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
         "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000\r\n\r\nhalf");
  CHECK(c.closed_by_peer(std::chrono::seconds(5)));
  CHECK(
      eventually([&] { return r->upstream->connections_closed() >= 1; }, std::chrono::seconds(5)));
}

TEST_CASE("after a streamed body is read whole, the connection serves the next request") {
  auto r = rig::with_api_key();
  r->start_proxy();
  raw_client c(r->port);
  c.send("POST /v1/agents HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
         "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
         "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  auto answers = c.read_until("\"status\"", std::chrono::seconds(5));
  CHECK(answers.find("HTTP/1.1 200") != std::string::npos); // /health, after the agents answer
  CHECK(answers.substr(0, 9) == "HTTP/1.1 ");
}
