// Tests of the simulator's stateful resources over HTTP: Message Batches, Files and Skills must
// answer in the API reference's shapes, and uploads must arrive byte for byte. Also the
// OpenAI-compatible chat completions route, which reads its options from the request.

#include "sim/simulator.hpp"

#include "sim_json.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using rapidjson::Document;
using rapidjson::Value;
using header_list = std::vector<std::pair<std::string, std::string>>;

constexpr const char *k_key = "sim-test-key";

struct answer {
  unsigned status = 0;
  http::fields headers;
  std::string body;
  std::string header(http::field f) const {
    auto it = headers.find(f);
    return it == headers.end() ? std::string() : std::string(it->value());
  }
};

// The simulator on a free port, and a blocking one-request-per-connection client for it.
struct sim_fixture {
  sim::server server{[] {
    sim::options o;
    o.api_key = k_key;
    return o;
  }()};
  sim_fixture() { server.start(); }

  // Sends the request (authenticated unless `auth` is false) and reads the whole answer.
  answer call(http::verb method, const std::string &target, std::string body = {},
              const header_list &headers = {}, bool auth = true) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(server.port()));
    if (auth)
      req.set("x-api-key", k_key);
    for (const auto &[k, v] : headers)
      req.set(k, v);
    req.body() = std::move(body); // moved: upload tests send tens of MiB
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    http::read(stream, buffer, parser);
    answer a;
    a.status = parser.get().result_int();
    for (const auto &h : parser.get())
      a.headers.insert(h.name_string(), h.value());
    a.body = std::move(parser.get().body());
    return a;
  }

  answer get(const std::string &target, const header_list &headers = {}) {
    return call(http::verb::get, target, {}, headers);
  }
  answer post_json(const std::string &target, std::string body) {
    return call(http::verb::post, target, std::move(body), {{"content-type", "application/json"}});
  }
  answer del(const std::string &target) { return call(http::verb::delete_, target); }
};

using sim_test::parse;
using sim_test::str;

// The Anthropic error shape, with the given status and type.
void require_error(const answer &a, unsigned status, const std::string &type) {
  INFO(a.body);
  REQUIRE(a.status == status);
  Document d = parse(a.body);
  REQUIRE(str(d["type"]) == "error");
  REQUIRE(str(d["error"]["type"]) == type);
  REQUIRE_FALSE(str(d["error"]["message"]).empty());
  REQUIRE(str(d["request_id"]).rfind("req_sim_", 0) == 0);
}

bool is_rfc3339(const Value &v) {
  // 2024-08-20T18:37:24.100435Z
  return v.IsString() && v.GetStringLength() == 27 && v.GetString()[10] == 'T' &&
         v.GetString()[26] == 'Z';
}

std::string params_json(const std::string &extra = {}) {
  return R"({"model":"claude-sonnet-4-6","max_tokens":64,"messages":[{"role":"user","content":"Hi"}])" +
         extra + "}";
}

// {"requests":[{"custom_id":"<id>","params":<params>}, ...]}
std::string batch_body(const std::vector<std::pair<std::string, std::string>> &requests) {
  std::string out = R"({"requests":[)";
  for (std::size_t i = 0; i < requests.size(); ++i)
    out += (i ? "," : "") + std::string(R"({"custom_id":")") + requests[i].first +
           R"(","params":)" + requests[i].second + "}";
  return out + "]}";
}

std::string create_batch(sim_fixture &f, std::size_t requests = 1) {
  std::vector<std::pair<std::string, std::string>> list;
  for (std::size_t i = 0; i < requests; ++i)
    list.emplace_back("req-" + std::to_string(i), params_json());
  const answer a = f.post_json("/v1/messages/batches", batch_body(list));
  INFO(a.body);
  REQUIRE(a.status == 200);
  return str(parse(a.body)["id"]);
}

std::vector<std::string> lines_of(const std::string &jsonl) {
  std::vector<std::string> lines;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::vector<std::string> ids_in(const Document &page) {
  std::vector<std::string> ids;
  for (const auto &item : page["data"].GetArray())
    ids.push_back(str(item["id"]));
  return ids;
}

struct upload_part {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string bytes;
};

// A multipart/form-data body as clients build it.
std::string multipart(const std::string &boundary, const std::vector<upload_part> &parts) {
  std::string out;
  for (const auto &p : parts) {
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (p.filename)
      out += "; filename=\"" + *p.filename + "\"";
    out += "\r\n";
    if (!p.content_type.empty())
      out += "Content-Type: " + p.content_type + "\r\n";
    out += "\r\n" + p.bytes + "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}

header_list form_headers(const std::string &boundary) {
  return {{"content-type", "multipart/form-data; boundary=" + boundary},
          {"anthropic-beta", "files-api-2025-04-14"}};
}

// Deterministic bytes of every value, including CR, LF, '-' and NUL.
std::string binary_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto &ch : out)
    ch = static_cast<char>(rng() & 0xff);
  return out;
}

std::string sha256_of(const std::string &bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

answer upload(sim_fixture &f, const std::string &filename, const std::string &bytes,
              const std::string &content_type = "application/octet-stream",
              const std::string &target = "/v1/files?beta=true") {
  const std::string boundary = "----formdata-test-7b1d";
  return f.call(http::verb::post, target,
                multipart(boundary, {{"file", filename, content_type, bytes}}),
                form_headers(boundary));
}

} // namespace

TEST_CASE("batches: create answers an in_progress message_batch", "[sim][batches]") {
  sim_fixture f;
  const answer a = f.post_json("/v1/messages/batches",
                               batch_body({{"first", params_json()}, {"second", params_json()}}));
  INFO(a.body);
  REQUIRE(a.status == 200);
  REQUIRE(a.header(http::field::content_type) == "application/json");
  Document b = parse(a.body);
  REQUIRE(str(b["id"]).rfind("msgbatch_", 0) == 0);
  REQUIRE(str(b["type"]) == "message_batch");
  REQUIRE(str(b["processing_status"]) == "in_progress");
  REQUIRE(b["request_counts"]["processing"].GetInt() == 2);
  for (const char *zero : {"succeeded", "errored", "canceled", "expired"})
    REQUIRE(b["request_counts"][zero].GetInt() == 0);
  REQUIRE(b["ended_at"].IsNull());
  REQUIRE(b["archived_at"].IsNull());
  REQUIRE(b["cancel_initiated_at"].IsNull());
  REQUIRE(b["results_url"].IsNull());
  REQUIRE(is_rfc3339(b["created_at"]));
  REQUIRE(is_rfc3339(b["expires_at"]));
  REQUIRE(str(b["expires_at"]) > str(b["created_at"]));
}

TEST_CASE("batches: the first retrieve ends the batch; results are one JSONL line per request",
          "[sim][batches]") {
  sim_fixture f;
  const std::string tools = R"(,"tools":[{"name":"lookup","input_schema":{"type":"object"}}])";
  const answer created =
      f.post_json("/v1/messages/batches",
                  batch_body({{"plain", params_json()},
                              {"tools", params_json(tools)},
                              {"broken", R"({"model":"claude-opus-4-7","max_tokens":5})"}}));
  REQUIRE(created.status == 200);
  const std::string id = str(parse(created.body)["id"]);

  const answer got = f.get("/v1/messages/batches/" + id);
  REQUIRE(got.status == 200);
  Document b = parse(got.body);
  REQUIRE(str(b["processing_status"]) == "ended");
  REQUIRE(b["request_counts"]["processing"].GetInt() == 0);
  REQUIRE(b["request_counts"]["succeeded"].GetInt() == 2);
  REQUIRE(b["request_counts"]["errored"].GetInt() == 1);
  REQUIRE(is_rfc3339(b["ended_at"]));
  // The sim's own address as the request reached it.
  const std::string results_url = "http://127.0.0.1:" + std::to_string(f.server.port()) +
                                  "/v1/messages/batches/" + id + "/results";
  REQUIRE(str(b["results_url"]) == results_url);
  // Retrieving again changes nothing.
  REQUIRE(parse(f.get("/v1/messages/batches/" + id).body) == b);

  const answer results =
      f.get("/v1/messages/batches/" + id + "/results", {{"accept", "application/binary"}});
  REQUIRE(results.status == 200);
  REQUIRE(results.header(http::field::content_type) == "application/x-jsonl");
  REQUIRE(results.header(http::field::transfer_encoding) == "chunked");
  REQUIRE(results.header(http::field::content_disposition).find(id + "_results.jsonl") !=
          std::string::npos);
  const auto lines = lines_of(results.body);
  REQUIRE(lines.size() == 3);

  Document plain = parse(lines[0]);
  REQUIRE(str(plain["custom_id"]) == "plain");
  REQUIRE(str(plain["result"]["type"]) == "succeeded");
  const Value &m = plain["result"]["message"];
  REQUIRE(str(m["type"]) == "message");
  REQUIRE(str(m["role"]) == "assistant");
  REQUIRE(str(m["model"]) == "claude-sonnet-4-6");
  REQUIRE(str(m["id"]).rfind("msg_", 0) == 0);
  REQUIRE(str(m["content"][0]["type"]) == "text");
  REQUIRE(str(m["stop_reason"]) == "end_turn");
  REQUIRE(m["usage"]["input_tokens"].GetInt() > 0);
  REQUIRE(m["usage"]["output_tokens"].GetInt() > 0);

  Document with_tools = parse(lines[1]);
  REQUIRE(str(with_tools["custom_id"]) == "tools");
  const Value &tm = with_tools["result"]["message"];
  REQUIRE(str(tm["stop_reason"]) == "tool_use");
  REQUIRE(str(tm["content"][1]["name"]) == "lookup");
  REQUIRE(str(tm["id"]) != str(m["id"]));

  Document broken = parse(lines[2]);
  REQUIRE(str(broken["custom_id"]) == "broken");
  REQUIRE(str(broken["result"]["type"]) == "errored");
  const Value &e = broken["result"]["error"];
  REQUIRE(str(e["type"]) == "error");
  REQUIRE(str(e["error"]["type"]) == "invalid_request_error");
  REQUIRE(str(e["error"]["message"]) == "messages: Field required");

  // The same through the beta path the SDK's beta client uses.
  REQUIRE(f.get("/v1/messages/batches/" + id + "/results?beta=true").body == results.body);
}

TEST_CASE("batches: results_url follows the Host header", "[sim][batches]") {
  sim_fixture f;
  const std::string id = create_batch(f);
  const answer a = f.get("/v1/messages/batches/" + id, {{"host", "sim.example:8443"}});
  REQUIRE(str(parse(a.body)["results_url"]) ==
          "http://sim.example:8443/v1/messages/batches/" + id + "/results");
}

TEST_CASE("batches: creation is validated", "[sim][batches]") {
  sim_fixture f;
  const std::pair<std::string, std::string> bad[] = {
      {"{not json", "invalid JSON"},
      {"[]", "invalid JSON"},
      {"{}", "requests: Field required"},
      {R"({"requests":{}})", "requests: Input should be a valid list"},
      {R"({"requests":[]})", "at least 1 item"},
      {R"({"requests":[5]})", "requests.0: Input should be a valid dictionary"},
      {R"({"requests":[{"params":{"model":"m"}}]})", "requests.0.custom_id: Field required"},
      {R"({"requests":[{"custom_id":7,"params":{"model":"m"}}]})", "valid string"},
      {R"({"requests":[{"custom_id":"has space","params":{"model":"m"}}]})", "pattern"},
      {R"({"requests":[{"custom_id":"a"}]})", "requests.0.params: Field required"},
      {R"({"requests":[{"custom_id":"a","params":[]}]})", "valid dictionary"},
      {R"({"requests":[{"custom_id":"a","params":{"model":"m"}},{"custom_id":"b","params":{}}]})",
       "requests.1.params.model: Field required"},
      {R"({"requests":[{"custom_id":"a","params":{"model":1}}]})", "params.model"},
      {R"({"requests":[{"custom_id":"a","params":{"model":"m"}},)"
       R"({"custom_id":"a","params":{"model":"m"}}]})",
       "unique"},
  };
  for (const auto &[body, expected] : bad) {
    INFO(body);
    const answer a = f.post_json("/v1/messages/batches", body);
    require_error(a, 400, "invalid_request_error");
    REQUIRE(str(parse(a.body)["error"]["message"]).find(expected) != std::string::npos);
  }
  // Nothing was created.
  REQUIRE(parse(f.get("/v1/messages/batches").body)["data"].Empty());
}

TEST_CASE("batches: the list pages newest first by after_id and before_id", "[sim][batches]") {
  sim_fixture f;
  const std::string b1 = create_batch(f), b2 = create_batch(f), b3 = create_batch(f);

  Document all = parse(f.get("/v1/messages/batches").body);
  REQUIRE(ids_in(all) == std::vector<std::string>{b3, b2, b1});
  REQUIRE_FALSE(all["has_more"].GetBool());
  REQUIRE(str(all["first_id"]) == b3);
  REQUIRE(str(all["last_id"]) == b1);
  REQUIRE(str(all["data"][0]["type"]) == "message_batch");

  Document first = parse(f.get("/v1/messages/batches?limit=2").body);
  REQUIRE(ids_in(first) == std::vector<std::string>{b3, b2});
  REQUIRE(first["has_more"].GetBool());
  REQUIRE(str(first["last_id"]) == b2);

  Document next = parse(f.get("/v1/messages/batches?limit=2&after_id=" + b2).body);
  REQUIRE(ids_in(next) == std::vector<std::string>{b1});
  REQUIRE_FALSE(next["has_more"].GetBool());

  Document back = parse(f.get("/v1/messages/batches?limit=1&before_id=" + b1).body);
  REQUIRE(ids_in(back) == std::vector<std::string>{b2});
  REQUIRE(back["has_more"].GetBool());

  Document empty = parse(f.get("/v1/messages/batches?before_id=" + b3).body);
  REQUIRE(empty["data"].Empty());
  REQUIRE(empty["first_id"].IsNull());
  REQUIRE(empty["last_id"].IsNull());

  require_error(f.get("/v1/messages/batches?limit=0"), 400, "invalid_request_error");
  require_error(f.get("/v1/messages/batches?limit=1001"), 400, "invalid_request_error");
  require_error(f.get("/v1/messages/batches?after_id=msgbatch_nope"), 400, "invalid_request_error");
}

TEST_CASE("batches: cancel starts canceling; the batch then ends with canceled requests",
          "[sim][batches]") {
  sim_fixture f;
  const std::string id = create_batch(f, 2);
  const answer canceled = f.call(http::verb::post, "/v1/messages/batches/" + id + "/cancel");
  REQUIRE(canceled.status == 200);
  Document c = parse(canceled.body);
  REQUIRE(str(c["processing_status"]) == "canceling");
  REQUIRE(is_rfc3339(c["cancel_initiated_at"]));
  REQUIRE(c["results_url"].IsNull());

  Document ended = parse(f.get("/v1/messages/batches/" + id).body);
  REQUIRE(str(ended["processing_status"]) == "ended");
  REQUIRE(ended["request_counts"]["canceled"].GetInt() == 2);
  REQUIRE(ended["request_counts"]["succeeded"].GetInt() == 0);
  REQUIRE(ended["cancel_initiated_at"] == c["cancel_initiated_at"]);
  const auto lines = lines_of(f.get("/v1/messages/batches/" + id + "/results").body);
  REQUIRE(lines.size() == 2);
  for (const auto &line : lines)
    REQUIRE(str(parse(line)["result"]["type"]) == "canceled");

  // Canceling an ended batch leaves it as it is.
  const std::string done = create_batch(f);
  Document before = parse(f.get("/v1/messages/batches/" + done).body);
  Document after = parse(f.call(http::verb::post, "/v1/messages/batches/" + done + "/cancel").body);
  REQUIRE(after == before);
  REQUIRE(after["cancel_initiated_at"].IsNull());
}

TEST_CASE("batches: only an ended batch can be deleted", "[sim][batches]") {
  sim_fixture f;
  const std::string id = create_batch(f);
  require_error(f.del("/v1/messages/batches/" + id), 400, "invalid_request_error");
  // Results are not there before the batch ends.
  require_error(f.get("/v1/messages/batches/" + id + "/results"), 404, "not_found_error");

  REQUIRE(f.get("/v1/messages/batches/" + id).status == 200); // ends it
  const answer deleted = f.del("/v1/messages/batches/" + id);
  REQUIRE(deleted.status == 200);
  Document d = parse(deleted.body);
  REQUIRE(str(d["id"]) == id);
  REQUIRE(str(d["type"]) == "message_batch_deleted");
  REQUIRE(d.MemberCount() == 2);
  require_error(f.get("/v1/messages/batches/" + id), 404, "not_found_error");
  require_error(f.del("/v1/messages/batches/" + id), 404, "not_found_error");
  require_error(f.get("/v1/messages/batches/" + id + "/results"), 404, "not_found_error");

  // A canceled batch can be deleted right away: the cancel completes first.
  const std::string canceled = create_batch(f);
  f.call(http::verb::post, "/v1/messages/batches/" + canceled + "/cancel?beta=true");
  REQUIRE(f.del("/v1/messages/batches/" + canceled + "?beta=true").status == 200);
}

TEST_CASE("batches: authentication, methods and unknown paths", "[sim][batches]") {
  sim_fixture f;
  require_error(f.call(http::verb::get, "/v1/messages/batches", {}, {}, false), 401,
                "authentication_error");
  const answer put = f.call(http::verb::put, "/v1/messages/batches");
  require_error(put, 405, "invalid_request_error");
  REQUIRE(put.header(http::field::allow) == "GET, POST");
  require_error(f.call(http::verb::get, "/v1/messages/batches/x/cancel"), 405,
                "invalid_request_error");
  require_error(f.get("/v1/messages/batches/msgbatch_nope"), 404, "not_found_error");
  require_error(f.call(http::verb::post, "/v1/messages/batches/msgbatch_nope/cancel"), 404,
                "not_found_error");
  require_error(f.get("/v1/messages/batches/x/bogus"), 404, "not_found_error");
  require_error(f.get("/v1/messages/batches/x/results/more"), 404, "not_found_error");
  require_error(f.get("/v1/messages/batches//results"), 404, "not_found_error");
  require_error(f.get("/v1/nothing/here"), 404, "not_found_error");
}

TEST_CASE("files: upload, digest, download, metadata, list and delete", "[sim][files]") {
  sim_fixture f;
  // CR, LF and dashes inside the file must not be taken for the multipart delimiter.
  std::string bytes = binary_bytes(1 << 20, 7);
  bytes.insert(1000, "\r\n--\r\n------formdata-test-7b\r\n");
  const answer up = upload(f, "report.bin", bytes, "application/x-sim; charset=binary");
  INFO(up.body);
  REQUIRE(up.status == 200);
  Document meta = parse(up.body);
  const std::string id = str(meta["id"]);
  REQUIRE(id.rfind("file_", 0) == 0);
  REQUIRE(str(meta["type"]) == "file");
  REQUIRE(str(meta["filename"]) == "report.bin");
  REQUIRE(str(meta["mime_type"]) == "application/x-sim");
  REQUIRE(meta["size_bytes"].GetUint64() == bytes.size());
  REQUIRE(meta["downloadable"].GetBool());
  REQUIRE(is_rfc3339(meta["created_at"]));

  // The sim's digest: no authentication needed.
  const answer digest = f.call(http::verb::get, "/_sim/files/" + id, {}, {}, false);
  REQUIRE(digest.status == 200);
  Document d = parse(digest.body);
  REQUIRE(str(d["sha256"]) == sha256_of(bytes));
  REQUIRE(d["size_bytes"].GetUint64() == bytes.size());

  const answer content = f.get("/v1/files/" + id + "/content?beta=true");
  REQUIRE(content.status == 200);
  REQUIRE(content.header(http::field::content_type) == "application/x-sim");
  REQUIRE(content.header(http::field::content_length) == std::to_string(bytes.size()));
  REQUIRE(content.body == bytes);

  REQUIRE(parse(f.get("/v1/files/" + id).body) == meta);
  const std::string second = str(parse(upload(f, "b.txt", "bee", "").body)["id"]);
  Document list = parse(f.get("/v1/files?beta=true").body);
  REQUIRE(ids_in(list) == std::vector<std::string>{second, id});
  REQUIRE(str(list["data"][0]["mime_type"]) == "application/octet-stream");
  Document page = parse(f.get("/v1/files?limit=1").body);
  REQUIRE(ids_in(page) == std::vector<std::string>{second});
  REQUIRE(page["has_more"].GetBool());
  REQUIRE(str(page["next_page"]) == second);
  // The cursor newer SDKs send back.
  Document rest = parse(f.get("/v1/files?limit=1&page=" + second).body);
  REQUIRE(ids_in(rest) == std::vector<std::string>{id});
  REQUIRE(rest["next_page"].IsNull());

  const answer deleted = f.del("/v1/files/" + id + "?beta=true");
  REQUIRE(deleted.status == 200);
  REQUIRE(parse(deleted.body) == parse(R"({"id":")" + id + R"(","type":"file_deleted"})"));
  require_error(f.get("/v1/files/" + id), 404, "not_found_error");
  require_error(f.get("/v1/files/" + id + "/content"), 404, "not_found_error");
  require_error(f.call(http::verb::get, "/_sim/files/" + id, {}, {}, false), 404,
                "not_found_error");
  require_error(f.del("/v1/files/" + id), 404, "not_found_error");
  require_error(f.call(http::verb::get, "/v1/files", {}, {}, false), 401, "authentication_error");
}

TEST_CASE("files: malformed uploads are refused with 400", "[sim][files]") {
  sim_fixture f;
  const std::string b = "xyz";
  const std::string good = multipart(b, {{"file", "a.txt", "text/plain", "abc"}});
  const std::pair<header_list, std::string> bad[] = {
      {{{"content-type", "application/json"}}, R"({"file":"abc"})"},
      {{{"content-type", "multipart/form-data"}}, good},
      {form_headers(b), good.substr(0, good.size() - 10)}, // no closing delimiter
      {form_headers(b), "--xyz\r\nContent-Disposition: form-data; name=\"file\"; "
                        "filename=\"a\"\r\nabc\r\n--xyz--"}, // headers never end
      {form_headers(b), multipart(b, {{"other", "a.txt", "", "abc"}})},
      {form_headers(b), multipart(b, {{"file", std::nullopt, "", "just text"}})},
      {form_headers(b),
       multipart(b, {{"file", "a.txt", "", "abc"}, {"expires_in_seconds", {}, "", "soon"}})},
      {form_headers("other"), good},
  };
  for (const auto &[headers, body] : bad) {
    INFO(body);
    require_error(f.call(http::verb::post, "/v1/files", body, headers), 400,
                  "invalid_request_error");
  }
  REQUIRE(parse(f.get("/v1/files").body)["data"].Empty());
}

TEST_CASE("files: uploads past 64 MiB are accepted and not kept in the request log",
          "[sim][files]") {
  sim_fixture f;
  const std::size_t size = 64u * 1024 * 1024 + 4096;
  std::string bytes(size, 'z');
  bytes[12345] = '\n';
  const std::string expected = sha256_of(bytes);
  const answer up = upload(f, "big.bin", bytes);
  bytes.clear();
  bytes.shrink_to_fit();
  INFO(up.body);
  REQUIRE(up.status == 200);
  const std::string id = str(parse(up.body)["id"]);
  Document d = parse(f.call(http::verb::get, "/_sim/files/" + id, {}, {}, false).body);
  REQUIRE(str(d["sha256"]) == expected);
  REQUIRE(d["size_bytes"].GetUint64() == size);

  bool seen = false;
  for (const auto &r : f.server.requests()) {
    if (r.method == "POST" && r.target.rfind("/v1/files", 0) == 0) {
      REQUIRE(r.body.size() < 32);
      REQUIRE(r.body.front() == '<');
      REQUIRE(r.body.find(" bytes>") != std::string::npos);
      seen = true;
    }
    if (r.target.find("/content") != std::string::npos)
      REQUIRE(r.response_body.size() < 32);
  }
  REQUIRE(seen);
}

TEST_CASE("other routes still refuse bodies past 64 MiB", "[sim][files]") {
  sim_fixture f;
  // The header alone is refused: the Content-Length is over the limit.
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server.port()));
  const std::string head =
      "POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: " + std::string(k_key) +
      "\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(64u * 1024 * 1024 + 1) + "\r\n\r\n";
  asio::write(socket, asio::buffer(head));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  REQUIRE(res.result_int() == 413);
}

TEST_CASE("skills: list, retrieve, create and delete", "[sim][skills]") {
  sim_fixture f;
  Document list = parse(f.get("/v1/skills?beta=true").body);
  REQUIRE(list["data"].Size() >= 1);
  REQUIRE_FALSE(list["has_more"].GetBool());
  REQUIRE(list["next_page"].IsNull());
  const Value &pdf = list["data"][0];
  REQUIRE(str(pdf["id"]) == "skill_sim_pdf");
  REQUIRE(str(pdf["type"]) == "skill");
  REQUIRE(str(pdf["source"]["type"]) == "anthropic");
  REQUIRE_FALSE(str(pdf["display_name"]).empty());
  REQUIRE_FALSE(str(pdf["latest_version_id"]).empty());
  REQUIRE(is_rfc3339(pdf["created_at"]));
  REQUIRE(is_rfc3339(pdf["updated_at"]));
  REQUIRE(parse(f.get("/v1/skills/skill_sim_pdf").body) == pdf);

  const std::string b = "skillb";
  const answer created = f.call(
      http::verb::post, "/v1/skills?beta=true",
      multipart(b, {{"files[]", "weather/SKILL.md", "text/markdown",
                     "---\nname: weather-report\ndescription: Reports weather\n---\n# Weather\n"},
                    {"files[]", "weather/scripts/run.py", "text/x-python", "print(1)\n"}}),
      form_headers(b));
  INFO(created.body);
  REQUIRE(created.status == 200);
  Document s = parse(created.body);
  const std::string id = str(s["id"]);
  REQUIRE(id.rfind("skill_", 0) == 0);
  REQUIRE(str(s["display_name"]) == "weather-report"); // from the SKILL.md frontmatter
  REQUIRE(str(s["source"]["type"]) == "custom");
  REQUIRE(ids_in(parse(f.get("/v1/skills?source=custom").body)) == std::vector<std::string>{id});
  Document first = parse(f.get("/v1/skills?limit=1").body);
  REQUIRE(ids_in(first) == std::vector<std::string>{id});
  REQUIRE(first["has_more"].GetBool());
  REQUIRE(str(first["next_page"]) == id);

  const answer named = f.call(http::verb::post, "/v1/skills",
                              multipart(b, {{"display_name", {}, "", "My Skill"},
                                            {"files[]", "x/SKILL.md", "", "no frontmatter"}}),
                              form_headers(b));
  REQUIRE(str(parse(named.body)["display_name"]) == "My Skill");

  // No SKILL.md, files in two directories, no files.
  require_error(f.call(http::verb::post, "/v1/skills",
                       multipart(b, {{"files[]", "x/README.md", "", "hi"}}), form_headers(b)),
                400, "invalid_request_error");
  require_error(f.call(http::verb::post, "/v1/skills",
                       multipart(b, {{"files[]", "x/SKILL.md", "", "hi"},
                                     {"files[]", "y/other.md", "", "hi"}}),
                       form_headers(b)),
                400, "invalid_request_error");
  require_error(f.call(http::verb::post, "/v1/skills",
                       multipart(b, {{"display_name", {}, "", "x"}}), form_headers(b)),
                400, "invalid_request_error");

  const answer deleted = f.del("/v1/skills/" + id);
  REQUIRE(deleted.status == 200);
  REQUIRE(parse(deleted.body) == parse(R"({"id":")" + id + R"(","type":"skill_deleted"})"));
  require_error(f.get("/v1/skills/" + id), 404, "not_found_error");
  require_error(f.del("/v1/skills/skill_sim_pdf"), 400, "invalid_request_error");
  require_error(f.get("/v1/skills/a/b"), 404, "not_found_error");
}

// The data: payloads of an SSE body, in order.
static std::vector<std::string> sse_data(const std::string &body) {
  std::vector<std::string> out;
  for (const auto &line : lines_of(body))
    if (line.rfind("data: ", 0) == 0)
      out.push_back(line.substr(6));
  return out;
}

TEST_CASE("chat completions: tools get a tool call, streamed and not", "[sim][chat]") {
  sim_fixture f;
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather",)"
      R"("parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}])";
  const std::string head =
      R"({"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"Weather in Paris?"}],)";

  const answer whole = f.post_json("/v1/chat/completions", head + tools + "}");
  INFO(whole.body);
  REQUIRE(whole.status == 200);
  Document completion = parse(whole.body);
  const std::string id = str(completion["id"]);
  REQUIRE(id.rfind("chatcmpl-sim_", 0) == 0);
  const Value &choice = completion["choices"][0];
  REQUIRE(str(choice["finish_reason"]) == "tool_calls");
  REQUIRE(str(choice["message"]["role"]) == "assistant");
  REQUIRE(choice["message"]["tool_calls"].Size() == 1);
  const Value &call = choice["message"]["tool_calls"][0];
  REQUIRE(str(call["id"]) == "call_" + id.substr(std::string("chatcmpl-").size()));
  REQUIRE(str(call["type"]) == "function");
  REQUIRE(str(call["function"]["name"]) == "get_weather");
  Document arguments = parse(str(call["function"]["arguments"]));
  REQUIRE(str(arguments["location"]) == "Paris");
  REQUIRE(completion["usage"]["prompt_tokens"].GetInt64() ==
          static_cast<std::int64_t>((head + tools + "}").size() / 4 + 1));

  // Streamed, with stream_options.include_usage: the call's head, its fragments, the finish,
  // then the usage chunk and [DONE].
  const answer streamed =
      f.post_json("/v1/chat/completions",
                  head + R"("stream":true,"stream_options":{"include_usage":true},)" + tools + "}");
  INFO(streamed.body);
  REQUIRE(streamed.status == 200);
  REQUIRE(streamed.header(http::field::content_type).rfind("text/event-stream", 0) == 0);
  const auto chunks = sse_data(streamed.body);
  REQUIRE(chunks.size() >= 5);
  REQUIRE(chunks.back() == "[DONE]");
  std::string name, streamed_arguments, finish_reason;
  for (std::size_t i = 0; i + 2 < chunks.size(); ++i) {
    Document d = parse(chunks[i]);
    REQUIRE(d["usage"].IsNull());
    const Value &c = d["choices"][0];
    if (c["delta"].HasMember("tool_calls")) {
      const Value &fn = c["delta"]["tool_calls"][0]["function"];
      if (fn.HasMember("name"))
        name = str(fn["name"]);
      streamed_arguments += str(fn["arguments"]);
    }
    if (!c["finish_reason"].IsNull())
      finish_reason = str(c["finish_reason"]);
  }
  REQUIRE(name == "get_weather");
  REQUIRE(parse(streamed_arguments) == arguments);
  REQUIRE(finish_reason == "tool_calls");
  Document usage_chunk = parse(chunks[chunks.size() - 2]);
  REQUIRE(usage_chunk["choices"].Empty());
  REQUIRE(usage_chunk["usage"]["completion_tokens"] == completion["usage"]["completion_tokens"]);

  // tool_choice "none": text, and without include_usage no usage in the stream.
  const answer none = f.post_json("/v1/chat/completions",
                                  head + R"("stream":true,"tool_choice":"none",)" + tools + "}");
  REQUIRE(none.status == 200);
  REQUIRE(none.body.find("tool_calls") == std::string::npos);
  REQUIRE(none.body.find("usage") == std::string::npos);
  REQUIRE(none.body.find(R"("finish_reason":"stop")") != std::string::npos);

  // A named tool_choice picks that tool, not the first.
  const answer named =
      f.post_json("/v1/chat/completions",
                  head + R"("tool_choice":{"type":"function","function":{"name":"get_time"}},)" +
                      R"("tools":[{"type":"function","function":{"name":"get_weather"}},)" +
                      R"({"type":"function","function":{"name":"get_time"}}]})");
  REQUIRE(named.status == 200);
  REQUIRE(str(parse(named.body)["choices"][0]["message"]["tool_calls"][0]["function"]["name"]) ==
          "get_time");

  // Without tools, text as before.
  Document text = parse(f.post_json("/v1/chat/completions", head + R"("stream":false})").body);
  REQUIRE(str(text["choices"][0]["finish_reason"]) == "stop");
  REQUIRE_FALSE(text["choices"][0]["message"].HasMember("tool_calls"));
  REQUIRE_FALSE(str(text["choices"][0]["message"]["content"]).empty());
}
