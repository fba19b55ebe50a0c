#pragma once
// The client-facing HTTP/1.1 server: accepts connections, reads requests with limits, answers
// what needs no upstream (unknown paths, bad input, a wrong proxy key) and hands everything else
// to a request handler, then waits for it to finish before reading the next request.
#include "core/result.hpp"
#include "io/client_link.hpp"
#include "io/in_flight.hpp"
#include "io/net.hpp"
#include "metrics/metrics.hpp"
#include "policy/request_check.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

namespace proxy {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 32u << 20;
  std::size_t max_header_bytes = 64u << 10;
  std::size_t max_header_fields = 256; ///< header lines in a request head (431 beyond)
  std::chrono::seconds client_idle_timeout{120};
  std::chrono::seconds client_write_timeout{60};
  std::string proxy_api_key; ///< empty: clients need no key
  std::string admin_key;     ///< empty: no admin route
  bool log_requests = true;
  /// Requests admitted and not finished yet; the server counts them (one slot per thread).
  std::shared_ptr<in_flight_counter> in_flight;
  /// Set once the proxy is shutting down (drain()); shared with whoever reports it.
  std::shared_ptr<std::atomic<bool>> draining;
  /// Beyond this many requests in flight, an immediate 529 (0: no limit). /health and /metrics
  /// are exempt.
  std::size_t max_in_flight = 0;
  /// /metrics needs no proxy key (the proxy listens on loopback only).
  bool metrics_without_key = false;
  /// Where refusals are counted; may be null.
  std::shared_ptr<proxy_metrics> metrics;
};

/// One request the server accepted, for the handler. The handler answers on `client` and calls
/// client->finish(serial) when done with the connection.
struct incoming_request {
  std::shared_ptr<client_link> client;
  std::uint64_t serial = 0; ///< which request on the connection this is
  route kind = route::not_found;
  http::verb method = http::verb::get;
  std::string target;
  http::fields headers;
  std::shared_ptr<const std::string> body; ///< empty while `streamed` is set
  /// Set for a body the relay streams upstream from `client` (body_mode::streamed).
  std::optional<streamed_body> streamed;
  std::string request_id;
  steady_clock::time_point received = steady_clock::now();
};

/// Called on the network thread that owns the client connection.
using request_handler = std::function<void(incoming_request)>;

class server {
public:
  /// `workers`: one io_context per network thread; connections are spread over them.
  server(std::vector<net::io_context *> workers, server_options options, request_handler handler);

  /// Binds and listens; returns the port (useful with port 0).
  result<std::uint16_t> listen();
  /// Starts accepting on the first worker.
  void start();
  /// Stops accepting (connections in progress finish on their own).
  void stop();
  /// Shutting down gently: API requests get 529 with retry-after, /health still answers, and
  /// every connection closes after its current response. Requests in flight go on.
  void drain();
  bool draining() const { return options_.draining->load(std::memory_order_relaxed); }
  /// Ends the requests still in flight (see client_link::cut_off).
  void cut_off_all();
  /// Closes every client connection: what waits on one ends (reads, relays, and so sessions).
  void close_all();

private:
  task<> accept_loop();
  task<> serve(std::shared_ptr<client_link> link);
  /// The error for a request the server refuses by its head alone (`fields` header lines), if
  /// any. Decided before a byte of the body is read.
  std::optional<api_error> refusal_for(route kind, body_mode mode,
                                       const http::request_parser<http::string_body> &parser,
                                       std::size_t fields);
  /// The largest body a request to `kind` may have.
  std::uint64_t body_limit_of(route kind, body_mode mode) const;
  /// Runs `f` on every open connection, each on its own thread.
  template <class F> void for_each_link(F f);
  /// Logs and counts a request the server answered itself, on network thread `worker`.
  void log_refusal(std::size_t worker, const std::string &request_id,
                   const http::request_header<> &req, std::string_view route_label,
                   const api_error &err, steady_clock::time_point received);

  std::vector<net::io_context *> workers_;
  /// Open client connections, per worker; each set is only touched on its worker's thread.
  /// Shared with the connections, whose frames may outlive the server at shutdown.
  using live_links = std::vector<std::unordered_set<client_link *>>;
  std::shared_ptr<live_links> live_;
  server_options options_;
  request_handler handler_;
  tcp::acceptor acceptor_;
  std::size_t next_worker_ = 0;
};

/// A fresh id for a request the proxy handles, e.g. "req_proxy_4f1c...".
std::string new_request_id();

} // namespace proxy
