#include "harness.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace testing {

reply call(std::uint16_t port, http::verb method, const std::string &target,
           const std::string &body, const header_list &headers, std::chrono::seconds timeout) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port)); // as real clients say it
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

scripted_server::scripted_server(answer_fn answer)
    : answer_(std::move(answer)),
      acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  acceptor_.non_blocking(true);
  thread_ = std::thread([this] { run(); });
}

scripted_server::~scripted_server() {
  stop_ = true;
  thread_.join();
}

std::vector<std::string> scripted_server::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void scripted_server::run() {
  while (!stop_) {
    boost::system::error_code ec;
    tcp::socket socket(ioc_);
    acceptor_.accept(socket, ec);
    if (ec) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    serve(socket);
  }
}

void scripted_server::serve(tcp::socket &socket) {
  socket.non_blocking(true);
  std::string request;
  std::size_t wanted = std::string::npos; // head + body, once the head is in
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  char buf[4096];
  while (!stop_ && std::chrono::steady_clock::now() < deadline &&
         (wanted == std::string::npos || request.size() < wanted) && request.size() < (1u << 20)) {
    boost::system::error_code ec;
    auto n = socket.read_some(net::buffer(buf), ec);
    if (ec == net::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (ec)
      break;
    request.append(buf, n);
    auto end = request.find("\r\n\r\n");
    if (wanted == std::string::npos && end != std::string::npos) {
      std::size_t length = 0;
      auto lower = request.substr(0, end);
      for (auto &c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos)
        length = std::stoul(lower.substr(at + 17));
      wanted = end + 4 + length;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
  }
  socket.non_blocking(false);
  bool first = true;
  for (const auto &piece : answer_(request)) {
    if (!first)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    first = false;
    boost::system::error_code ec;
    net::write(socket, net::buffer(piece), ec);
    if (ec)
      break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

std::string proxy_bin() {
  const char *bin = std::getenv("PROXY_BIN");
  REQUIRE(bin != nullptr); // set by CTest
  return bin;
}

namespace {

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

proxy_process::proxy_process(const std::vector<std::string> &env_add,
                             const std::vector<std::string> &args) {
  static std::atomic<int> serial{0};
  auto stem = std::filesystem::temp_directory_path().string() + "/proxy_process_" +
              std::to_string(::getpid()) + "_" + std::to_string(serial++);
  out_path = stem + ".out";
  err_path = stem + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<std::string> env_strings;
  for (char **e = environ; *e; ++e) {
    std::string s = *e;
    // The child's credentials come only from what the test gives it.
    if (s.rfind("ANTHROPIC_API_KEY=", 0) == 0 || s.rfind("CLAUDE_", 0) == 0 ||
        s.rfind("HOME=", 0) == 0 || s.rfind("PROXY_", 0) == 0)
      continue;
    env_strings.push_back(s);
  }
  for (const auto &e : env_add)
    env_strings.push_back(e);
  std::vector<char *> envp;
  for (auto &s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);
  auto bin = proxy_bin();
  std::vector<std::string> all_args = {bin, "--port", "0"};
  all_args.insert(all_args.end(), args.begin(), args.end());
  std::vector<char *> argv;
  for (auto &a : all_args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  REQUIRE(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);
  std::regex listening("listening on http://[^:]+:([0-9]+)\n"); // a whole line
  std::smatch m;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto seen = read_file(err_path);
    if (std::regex_search(seen, m, listening)) {
      port = static_cast<std::uint16_t>(std::stoi(m[1]));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the proxy did not start: " << read_file(err_path));
}

int proxy_process::stop(int sig) {
  ::kill(pid, sig);
  return wait_exit(std::chrono::seconds(10));
}

int proxy_process::wait_exit(std::chrono::seconds timeout) {
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      pid = -1;
      FAIL("the proxy did not exit within " << timeout.count() << " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid = -1;
  return status;
}

proxy_process::~proxy_process() {
  if (pid > 0)
    stop(SIGKILL);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
}

std::string proxy_process::output() const {
  return read_file(out_path) + read_file(err_path);
}

std::size_t proxy_process::rss_kib() const {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoul(line.substr(6));
  return 0;
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
