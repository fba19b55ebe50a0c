// The API families beyond Messages: passed through by the table in policy/request_check.cpp,
// request bodies streamed upstream as they arrive, batch results_url pointing at the proxy.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <rapidjson/document.h>

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
      {"/v1/files", (501ull << 20) + 1, 413},
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

namespace {

std::string sha256_hex(const std::string &bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

std::string json_string_field(const std::string &json, const char *name) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  REQUIRE(doc.IsObject());
  auto it = doc.FindMember(name);
  REQUIRE(it != doc.MemberEnd());
  return it->value.IsString() ? it->value.GetString() : "<not a string>";
}

} // namespace

TEST_CASE("a batch's results_url names the proxy, and fetching it there gives the upstream's "
          "results") {
  auto r = rig::with_api_key();
  r->start_proxy();
  const header_list json = {{"x-api-key", "k"}, {"content-type", "application/json"}};
  auto created = call(r->port, http::verb::post, "/v1/messages/batches",
                      R"({"requests":[{"custom_id":"a","params":{"model":"claude-sonnet-4-6",)"
                      R"("max_tokens":32,"messages":[{"role":"user","content":"hi"}]}}]})",
                      json);
  REQUIRE(created.status == 200);
  auto id = json_string_field(created.body, "id");
  auto ended = call(r->port, http::verb::get, "/v1/messages/batches/" + id, "", json);
  REQUIRE(ended.status == 200);
  auto proxy_origin = "http://127.0.0.1:" + std::to_string(r->port);
  auto url = json_string_field(ended.body, "results_url");
  CHECK(url == proxy_origin + "/v1/messages/batches/" + id + "/results");
  // The upstream said its own origin; only that field changed.
  auto upstream_said = r->upstream->requests().back().response_body;
  CHECK(json_string_field(upstream_said, "results_url").find(r->upstream->base_url()) == 0);
  CHECK(json_string_field(upstream_said, "processing_status") ==
        json_string_field(ended.body, "processing_status"));
  CHECK(ended.header("content-length") == std::to_string(ended.body.size()));

  auto results = call(r->port, http::verb::get, url.substr(proxy_origin.size()), "", json);
  CHECK(results.status == 200);
  CHECK(results.body == r->upstream->requests().back().response_body); // JSONL, untouched
  CHECK(results.body.find(R"("custom_id":"a")") != std::string::npos);

  // Behind TLS termination (the edge), the client's scheme and host.
  auto listed = call(r->port, http::verb::get, "/v1/messages/batches?limit=5", "",
                     {{"x-api-key", "k"}, {"x-forwarded-proto", "https"}});
  CHECK(listed.body.find("\"results_url\":\"https://127.0.0.1:" + std::to_string(r->port) +
                         "/v1/messages/batches/" + id + "/results\"") != std::string::npos);
}

TEST_CASE("an upload streams through whole: the simulator's hash of the file matches") {
  auto r = rig::with_api_key();
  r->start_proxy();
  std::string file(5u << 20, '\0');
  for (std::size_t i = 0; i < file.size(); ++i)
    file[i] = static_cast<char>((i * 7919) >> 3);
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n" +
      file + "\r\n--XyZ--\r\n";
  std::vector<std::string> pieces;
  for (std::size_t at = 0; at < body.size(); at += 100000)
    pieces.push_back(body.substr(at, 100000));
  auto wire = chunked(pieces);
  raw_client c(r->port);
  c.send("POST /v1/files?beta=true HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
         "Content-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (std::size_t at = 0; at < wire.size(); at += 256 * 1024)
    c.send(wire.substr(at, 256 * 1024));
  auto answer = c.read_until("}", std::chrono::seconds(20));
  REQUIRE(answer.substr(0, 12) == "HTTP/1.1 200");
  auto json = answer.substr(answer.find("\r\n\r\n") + 4);
  auto id = json_string_field(json, "id");
  CHECK(json.find("\"size_bytes\":" + std::to_string(file.size())) != std::string::npos);
  auto check = call(r->upstream->port(), http::verb::get, "/_sim/files/" + id);
  CHECK(json_string_field(check.body, "sha256") == sha256_hex(file));

  // And back: the download streams to the client byte for byte.
  auto download =
      call(r->port, http::verb::get, "/v1/files/" + id + "/content", "", {{"x-api-key", "k"}});
  CHECK(download.status == 200);
  CHECK(download.body.size() == file.size());
  CHECK(download.body == file);
}
