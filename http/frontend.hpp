#pragma once
// The client-facing HTTP/1.1 server: accepts connections, reads requests with limits, answers
// what needs no upstream (unknown paths, bad input, a wrong proxy key) and hands everything else
// to a session via `dispatch`, then waits for it before reading the next request.
#include "actors/session_actor.hpp"
#include "core/result.hpp"
#include "http/net.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace proxy {

struct frontend_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 32u << 20;
  std::size_t max_header_bytes = 64u << 10;
  std::chrono::seconds client_idle_timeout{120};
  std::chrono::seconds client_write_timeout{60};
  std::string proxy_api_key; ///< empty: clients need no key
  std::string admin_key;     ///< empty: no admin route
  bool log_requests = true;
};

class frontend {
public:
  using dispatcher = std::function<void(session_request)>;

  /// `workers`: one io_context per network thread; connections are spread over them.
  frontend(std::vector<net::io_context *> workers, frontend_options options, dispatcher dispatch);

  /// Binds and listens; returns the port (useful with port 0).
  result<std::uint16_t> listen();
  /// Starts accepting on the first worker.
  void start();
  /// Stops accepting (connections in progress finish on their own).
  void stop();

private:
  task<> accept_loop();
  task<> serve(std::shared_ptr<client_link> link);
  /// The error for a request the frontend refuses by its head alone, if any.
  std::optional<api_error> refusal_for(route kind, const http::request_header<> &req);
  void log_refusal(const std::string &request_id, const http::request_header<> &req,
                   const api_error &err, std::chrono::steady_clock::time_point received);

  std::vector<net::io_context *> workers_;
  frontend_options options_;
  dispatcher dispatch_;
  tcp::acceptor acceptor_;
  std::size_t next_worker_ = 0;
};

/// A fresh id for a request the proxy handles, e.g. "req_proxy_4f1c...".
std::string new_request_id();

} // namespace proxy
