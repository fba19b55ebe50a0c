#include "harness.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace testing {

reply call(std::uint16_t port, http::verb method, const std::string &target,
           const std::string &body, const header_list &headers, std::chrono::seconds timeout) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto &[k, v] : headers)
    req.insert(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  http::read(stream, buffer, parser);
  reply r;
  r.status = parser.get().result_int();
  for (const auto &h : parser.get())
    r.headers.insert(h.name_string(), h.value());
  r.body = parser.get().body();
  return r;
}

reply post_messages(std::uint16_t port, const std::string &body, const header_list &headers) {
  header_list h = headers;
  h.emplace_back("content-type", "application/json");
  return call(port, http::verb::post, "/v1/messages", body, h);
}

std::string message_body(bool stream, const std::string &extra) {
  return std::string(R"({"model":"claude-sonnet-4-6","max_tokens":256,"stream":)") +
         (stream ? "true" : "false") + R"(,"messages":[{"role":"user","content":"Hello there"}])" +
         extra + "}";
}

raw_client::raw_client(std::uint16_t port) : socket_(ioc_) {
  socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
}

void raw_client::send(const std::string &bytes) {
  net::write(socket_, net::buffer(bytes));
}

bool raw_client::read_while(const std::function<bool()> &more, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  socket_.non_blocking(true);
  char buf[4096];
  while (more() && std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    auto n = socket_.read_some(net::buffer(buf), ec);
    if (ec == net::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (ec)
      return true;
    data_.append(buf, n);
  }
  return false;
}

std::string raw_client::read_until(const std::string &needle, std::chrono::milliseconds timeout) {
  read_while([&] { return data_.find(needle) == std::string::npos; }, timeout);
  return data_;
}

bool raw_client::closed_by_peer(std::chrono::milliseconds timeout) {
  return read_while([] { return true; }, timeout);
}

void raw_client::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

proxy::config test_config(const std::string &upstream_url) {
  auto cfg = proxy::parse_config({}, [](const std::string &) { return std::nullopt; }).value();
  cfg.port = 0;
  cfg.upstream_url = upstream_url;
  cfg.token_url = upstream_url + "/v1/oauth/token";
  cfg.credentials_file.clear();
  cfg.log_requests = std::getenv("PROXY_TEST_LOG") != nullptr;
  cfg.upstream_timeout = std::chrono::seconds(5);
  cfg.stream_idle_timeout = std::chrono::seconds(5);
  cfg.connect_timeout = std::chrono::milliseconds(2000);
  cfg.io_threads = 2; // exercise connections spread over two network threads
  return cfg;
}

rig::rig(sim::options so) {
  upstream = std::make_unique<sim::server>(so);
  upstream->start();
  cfg = test_config(upstream->base_url());
}

std::unique_ptr<rig> rig::with_api_key(sim::options so) {
  so.api_key = "sim-upstream-key";
  auto r = std::make_unique<rig>(so);
  r->cfg.anthropic_api_key = "sim-upstream-key";
  return r;
}

void rig::start_proxy() {
  proxy = std::make_unique<proxy::proxy_app>(cfg);
  auto p = proxy->start();
  if (!p)
    FAIL("proxy did not start: " << p.error());
  port = p.value();
}

void rig::stop_proxy() {
  if (proxy)
    proxy->stop();
  proxy.reset();
}

temp_dir::temp_dir() {
  char t[] = "/tmp/proxy-it-XXXXXX";
  path = mkdtemp(t);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

} // namespace testing
