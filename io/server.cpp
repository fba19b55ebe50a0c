#include "io/server.hpp"

#include "core/log.hpp"
#include "policy/header_policy.hpp"

#include <array>
#include <random>

namespace proxy {

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "req_proxy_";
  for (int i = 0; i < 2; ++i) {
    auto v = rng();
    for (int j = 0; j < 12; ++j, v >>= 4)
      id += hex[v & 0xf];
  }
  return id;
}

server::server(std::vector<net::io_context *> workers, server_options options,
               request_handler handler)
    : workers_(std::move(workers)), live_(std::make_shared<live_links>(workers_.size())),
      options_(std::move(options)),
      handler_(std::move(handler)), acceptor_(*workers_.front()) {}

result<std::uint16_t> server::listen() {
  error_code ec;
  auto address =
      net::ip::make_address(options_.host == "localhost" ? "127.0.0.1" : options_.host, ec);
  if (ec)
    return failure{"invalid --host '" + options_.host + "': " + ec.message()};
  tcp::endpoint endpoint{address, options_.port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(endpoint, ec);
  if (!ec)
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return failure{"cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                   ": " + ec.message()};
  return acceptor_.local_endpoint().port();
}

void server::start() {
  net::co_spawn(acceptor_.get_executor(), accept_loop(), net::detached);
}

void server::stop() {
  net::post(acceptor_.get_executor(), [this] {
    error_code ec;
    acceptor_.close(ec);
  });
}

void server::close_all() {
  for (std::size_t i = 0; i < workers_.size(); ++i)
    net::post(*workers_[i], [live = live_, i] {
      for (auto *link : (*live)[i]) {
        error_code ignored;
        link->stream().socket().close(ignored);
      }
    });
}

task<> server::accept_loop() {
  while (acceptor_.is_open()) {
    std::size_t worker = next_worker_++ % workers_.size();
    auto [ec, socket] = co_await acceptor_.async_accept(*workers_[worker], use_tuple);
    if (ec == net::error::operation_aborted)
      co_return;
    if (ec) {
      // Out of file descriptors and the like: pause instead of spinning.
      net::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto link = std::make_shared<client_link>(std::move(socket), worker);
    link->write_timeout = options_.client_write_timeout;
    net::co_spawn(link->executor(), serve(link), net::detached);
  }
}

namespace {

/// The answer to a request the parser could not take, or none when the peer just left.
std::optional<api_error> read_error(const error_code &ec) {
  if (ec == http::error::body_limit)
    return make_api_error(413, "Request body is larger than this proxy's limit");
  if (ec == http::error::header_limit)
    return make_api_error(431, "Request headers are larger than this proxy's limit");
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message)
    return make_api_error(400, "Malformed HTTP request: " + ec.message());
  return std::nullopt;
}

/// Ends a connection so that a response just written survives: shut our sending side, then
/// read and drop what the client still sends (bounded in bytes and time) before closing.
/// Closing with unread input would reset the connection and could destroy the response.
task<> close_gracefully(client_link &link) {
  auto &stream = link.stream();
  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  constexpr std::size_t max_drain = 4u << 20;
  std::size_t drained = 0;
  std::array<char, 4096> sink;
  stream.expires_after(std::chrono::seconds(2));
  while (!ec && drained < max_drain) {
    std::size_t n = 0;
    std::tie(ec, n) = co_await stream.async_read_some(net::buffer(sink), use_tuple);
    drained += n;
  }
  stream.close();
}

} // namespace

void server::log_refusal(const std::string &request_id, const http::request_header<> &req,
                         const api_error &err, steady_clock::time_point received) {
  if (!options_.log_requests)
    return;
  request_record r;
  r.id = request_id;
  r.method = std::string(req.method_string());
  r.path = std::string(req.target().substr(0, req.target().find('?')));
  r.status = err.status;
  r.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - received).count();
  r.error = err.message;
  log_request(r);
}

std::optional<api_error> server::refusal_for(route kind, const http::request_header<> &req) {
  if (kind == route::admin_credentials) {
    if (options_.admin_key.empty())
      return make_api_error(404, "Not found: the admin route is off (no admin key configured)");
    auto key = req["x-admin-key"];
    if (!secure_equals(std::string_view(key.data(), key.size()), options_.admin_key))
      return make_api_error(401, "Invalid or missing x-admin-key");
    return std::nullopt;
  }
  if (kind == route::not_found)
    return make_api_error(404, "Not found: " + std::string(req.target().substr(0, 200)));
  if (kind == route::method_not_allowed)
    return make_api_error(405, "Method " + std::string(req.method_string()) +
                                   " is not allowed on this path");
  if (kind != route::health && !options_.proxy_api_key.empty() &&
      !client_key_matches(req, options_.proxy_api_key))
    return make_api_error(401, "Invalid or missing proxy API key (send it as x-api-key or "
                               "Authorization: Bearer)");
  return std::nullopt;
}

task<> server::serve(std::shared_ptr<client_link> link) {
  // Known while it is open, so close_all() can end it.
  struct registration {
    std::shared_ptr<live_links> live;
    client_link *link;
    registration(std::shared_ptr<live_links> l, client_link *k) : live(std::move(l)), link(k) {
      (*live)[link->worker()].insert(link);
    }
    ~registration() { (*live)[link->worker()].erase(link); }
  } registered{live_, link.get()};
  auto &stream = link->stream();
  for (;;) {
    incoming_request s;
    {
      // The parser lives only while the request is read: a request in flight holds no parser.
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      stream.expires_after(options_.client_idle_timeout);
      auto [ec, n] = co_await http::async_read_header(stream, link->buffer(), parser, use_tuple);
      auto received = steady_clock::now();
      auto request_id = new_request_id();
      if (ec) {
        if (auto err = read_error(ec)) {
          link->keep_alive = false; // the rest of the stream cannot be trusted
          co_await write_error(*link, *err, request_id);
          log_refusal(request_id, parser.get(), *err, received);
          co_await close_gracefully(*link);
          co_return;
        }
        break;
      }
      auto &req = parser.get();
      link->version = req.version();
      link->keep_alive = req.keep_alive();
      link->response_started = false;

      // Judge the request by its head, before accepting a body of up to max_body_bytes.
      auto kind = classify(req.method(), req.target());
      if (auto refusal = refusal_for(kind, req)) {
        bool body_unread = !parser.is_done();
        if (body_unread)
          link->keep_alive = false;
        bool sent = co_await write_error(*link, *refusal, request_id);
        log_refusal(request_id, req, *refusal, received);
        if (!sent)
          break;
        if (body_unread) {
          co_await close_gracefully(*link);
          co_return;
        }
        continue;
      }
      if (!parser.is_done()) {
        if (req[http::field::expect] == "100-continue") {
          // Clients that ask wait (curl: 1 s) before sending the body unless told to go on.
          static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
          std::tie(ec, std::ignore) =
              co_await net::async_write(stream, net::buffer(go_on.data(), go_on.size()), use_tuple);
        }
        stream.expires_after(options_.client_idle_timeout); // the body gets a fresh allowance
        if (!ec)
          std::tie(ec, std::ignore) =
              co_await http::async_read(stream, link->buffer(), parser, use_tuple);
        if (ec) {
          if (auto err = read_error(ec)) {
            link->keep_alive = false;
            co_await write_error(*link, *err, request_id);
            log_refusal(request_id, req, *err, received);
            co_await close_gracefully(*link);
            co_return;
          }
          break;
        }
      }
      stream.expires_never(); // the session's own limits apply from here
      s.client = link;
      s.kind = kind;
      s.method = req.method();
      s.target = std::string(req.target());
      s.headers = std::move(static_cast<http::fields &>(req));
      s.body = std::make_shared<const std::string>(std::move(req.body()));
      s.request_id = std::move(request_id);
      s.received = received;
    }
    // Nothing pipelined: give the read buffer back while the request is served.
    if (link->buffer().size() == 0)
      link->buffer().shrink_to_fit();
    handler_(std::move(s));
    co_await link->wait_finished();
    if (!link->keep_alive || !stream.socket().is_open())
      break;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

} // namespace proxy
