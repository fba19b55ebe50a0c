#pragma once
// Loopback test rig: the upstream simulator and the proxy in this process, plus small blocking
// HTTP clients. Every wait is bounded.
#include "app/proxy.hpp"
#include "sim/simulator.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct reply {
  unsigned status = 0;
  http::fields headers;
  std::string body;
  std::string header(const char *name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : std::string(it->value());
  }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One request on a new connection; the whole response.
reply call(std::uint16_t port, http::verb method, const std::string &target,
           const std::string &body = "", const header_list &headers = {},
           std::chrono::seconds timeout = std::chrono::seconds(20));

/// POST /v1/messages with a JSON body.
reply post_messages(std::uint16_t port, const std::string &body, const header_list &headers = {});

/// A JSON Messages body.
std::string message_body(bool stream, const std::string &extra = "");

/// A plain TCP client for byte-level tests (raw requests, partial reads, hang-ups).
class raw_client {
public:
  explicit raw_client(std::uint16_t port);
  void send(const std::string &bytes);
  /// Reads until `needle` appears or the peer closes or the timeout passes; returns all read.
  std::string read_until(const std::string &needle, std::chrono::milliseconds timeout);
  /// True when the peer closed the connection within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  void close();

private:
  /// Reads what arrives while `more()` holds, until the timeout; true when the peer closed.
  bool read_while(const std::function<bool()> &more, std::chrono::milliseconds timeout);

  net::io_context ioc_;
  tcp::socket socket_;
  std::string data_;
};

/// A misbehaving peer for the proxy (a hostile upstream or token endpoint), on its own thread:
/// for each connection in turn it reads one request (head and Content-Length body), then
/// writes the pieces `answer` returns for it, 20 ms apart, and closes. Every wait is bounded.
class scripted_server {
public:
  using answer_fn = std::function<std::vector<std::string>(const std::string &request)>;
  explicit scripted_server(answer_fn answer);
  ~scripted_server();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// The requests received so far (head and body).
  std::vector<std::string> requests() const;

private:
  void run();
  void serve(tcp::socket &socket);

  answer_fn answer_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

/// Waits (bounded) until `pred` holds.
template <class Pred> bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

/// A proxy configuration for tests: quiet, port 0, short timeouts, no credentials.
proxy::config test_config(const std::string &upstream_url);

/// The simulator and a proxy in front of it.
struct rig {
  std::unique_ptr<sim::server> upstream;
  std::unique_ptr<proxy::proxy_app> proxy;
  std::uint16_t port = 0;
  proxy::config cfg;

  /// Starts the simulator; the proxy starts with start_proxy() after cfg was adjusted.
  explicit rig(sim::options so = {});
  /// A rig whose proxy uses the simulator's API key.
  static std::unique_ptr<rig> with_api_key(sim::options so = {});
  void start_proxy();
  void stop_proxy();
};

/// The claude-proxy binary (PROXY_BIN, set by CTest).
std::string proxy_bin();

/// The claude-proxy binary as a child process on port 0, with only the credentials the test
/// gives it, its stdout and stderr kept in files. Killed at the end if still running.
struct proxy_process {
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::string out_path, err_path;

  /// `args` come after "--port 0"; by default the request log is off.
  explicit proxy_process(const std::vector<std::string> &env_add,
                         const std::vector<std::string> &args = {"--no-request-log"});
  ~proxy_process();
  /// Sends `sig` and returns the exit status (bounded wait).
  int stop(int sig);
  /// Waits for it to exit by itself and returns the exit status (SIGKILL and a failure after
  /// `timeout`).
  int wait_exit(std::chrono::seconds timeout);
  /// Everything it printed so far, stdout then stderr.
  std::string output() const;
  /// Its resident memory now, in KiB.
  std::size_t rss_kib() const;
};

/// A temporary folder removed at the end.
struct temp_dir {
  std::string path;
  temp_dir();
  ~temp_dir();
};

} // namespace testing
