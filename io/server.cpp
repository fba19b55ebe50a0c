#include "io/server.hpp"

#include "core/log.hpp"
#include "core/text.hpp"
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
      options_(std::move(options)), handler_(std::move(handler)), acceptor_(*workers_.front()) {
  if (!options_.in_flight)
    options_.in_flight = std::make_shared<in_flight_counter>(workers_.size());
  if (!options_.draining)
    options_.draining = std::make_shared<std::atomic<bool>>(false);
}

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
  for_each_link([](client_link &link) { link.close(); });
}

void server::drain() {
  options_.draining->store(true, std::memory_order_relaxed);
  // Responses that start from now on say Connection: close.
  for_each_link([](client_link &link) { link.keep_alive = false; });
}

void server::cut_off_all() {
  for_each_link([](client_link &link) { link.cut_off(); });
}

template <class F> void server::for_each_link(F f) {
  for (std::size_t i = 0; i < workers_.size(); ++i)
    net::post(*workers_[i], [live = live_, i, f] {
      for (auto *link : (*live)[i])
        f(*link);
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
/// drop what the client still sends (bounded in bytes and time) before closing. Closing with
/// unread input would reset the connection and could destroy the response.
task<> close_gracefully(client_link &link) {
  error_code ec;
  link.socket().shutdown(tcp::socket::shutdown_send, ec);
  constexpr std::size_t max_drain = 4u << 20;
  std::size_t drained = 0;
  auto deadline = steady_clock::now() + std::chrono::seconds(2);
  while (drained < max_drain) {
    drained += link.buffer().size();
    link.buffer().consume(link.buffer().size());
    link.consumed();
    if (co_await link.wait_input(deadline))
      break;
  }
  link.close();
}

/// Why the server refused a request, for the metrics.
const char *refusal_reason(unsigned status, bool draining) {
  switch (status) {
  case 401:
    return "auth";
  case 404:
  case 405:
    return "not_found";
  case 413:
  case 431:
    return "limits";
  case 529:
    return draining ? "draining" : "overload";
  default:
    return "bad_request";
  }
}

/// One request counted as in flight while this lives.
class in_flight_slot {
public:
  in_flight_slot(in_flight_counter &counter, std::size_t worker)
      : counter_(counter), worker_(worker) {
    counter_.add(worker_, 1);
  }
  ~in_flight_slot() { counter_.add(worker_, -1); }
  in_flight_slot(const in_flight_slot &) = delete;
  in_flight_slot &operator=(const in_flight_slot &) = delete;

private:
  in_flight_counter &counter_;
  std::size_t worker_;
};

/// Feeds what is buffered to the parser: done (ec clear), need_more, or the parser's error.
error_code parse_buffered(client_link &link, http::request_parser<http::string_body> &parser) {
  error_code ec;
  auto &buffer = link.buffer();
  if (buffer.size() == 0)
    return http::error::need_more;
  auto used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  link.consumed();
  if (!ec && used == 0)
    return http::error::need_more; // nothing it could take: more bytes are needed
  return ec;
}

/// Reads until `done()` holds: parses what is buffered, waits for more when the parser needs
/// it. The end of the connection before anything arrived is end_of_stream, else
/// partial_message.
template <class Done>
task<error_code> read_until(client_link &link, http::request_parser<http::string_body> &parser,
                            steady_clock::time_point deadline, Done done) {
  while (!done()) {
    auto ec = parse_buffered(link, parser);
    if (!ec && done())
      break;
    if (ec && ec != http::error::need_more)
      co_return ec;
    if (!ec)
      continue; // progress without being done (a body in pieces): parse on
    if (link.buffer_full())
      co_return http::error::header_limit; // a head or trailer section too large to hold
    if (auto rec = co_await link.wait_input(deadline)) {
      if (rec == net::error::eof)
        co_return parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
      co_return rec;
    }
  }
  co_return error_code{};
}

} // namespace

void server::log_refusal(std::size_t worker, const std::string &request_id,
                         const http::request_header<> &req, std::string_view route_label,
                         const api_error &err, steady_clock::time_point received) {
  auto elapsed = steady_clock::now() - received;
  if (options_.metrics) {
    request_sample m;
    m.route = route_label;
    m.method = http::to_string(req.method());
    m.status = err.status;
    m.duration_s = std::chrono::duration<double>(elapsed).count();
    m.refused = refusal_reason(err.status, draining());
    options_.metrics->record(worker, m);
  }
  if (!options_.log_requests)
    return;
  request_record r;
  r.id = request_id;
  r.method = req.method_string();
  r.path = req.target().substr(0, req.target().find('?'));
  r.status = err.status;
  r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  r.error = err.message;
  log_request(r);
}

std::uint64_t server::body_limit_of(route kind, body_mode mode) const {
  return mode == body_mode::whole ? options_.max_body_bytes : body_limit(kind);
}

std::optional<api_error> server::refusal_for(route kind, body_mode mode,
                                             const http::request_parser<http::string_body> &parser,
                                             std::size_t fields) {
  const auto &req = parser.get();
  if (auto err = host_error(req, req.version()))
    return err;
  if (fields > options_.max_header_fields)
    return make_api_error(431, "Request has more than " +
                                   std::to_string(options_.max_header_fields) + " header fields");
  if (kind == route::not_found) {
    return make_api_error(404, not_found_message(req.target(), client_origin(req)));
  }
  if (kind == route::method_not_allowed)
    return make_api_error(405, "Method " + utf8_prefix(req.method_string(), 20) +
                                   " is not allowed on this path");
  if (kind == route::admin_credentials) {
    auto key = req["x-admin-key"];
    if (!secure_equals(std::string_view(key.data(), key.size()), options_.admin_key))
      return make_api_error(401, "Invalid or missing x-admin-key");
  } else if (kind != route::health && kind != route::root &&
             !(kind == route::metrics && options_.metrics_without_key) &&
             !options_.proxy_api_key.empty() && !client_key_matches(req, options_.proxy_api_key)) {
    return make_api_error(401, "Invalid, missing or ambiguous proxy API key (send it once, as "
                               "x-api-key or Authorization: Bearer)");
  }
  bool declares_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  if (declares_body && mode == body_mode::none)
    return make_api_error(400, "This route takes no request body");
  if (auto limit = body_limit_of(kind, mode); parser.content_length().value_or(0) > limit)
    return make_api_error(413, "Request body is larger than this proxy's limit for " +
                                   std::string(route_name(kind)) + " (" + std::to_string(limit) +
                                   " bytes)");
  if (kind != route::health && kind != route::metrics && kind != route::root) {
    if (draining())
      return make_api_error(529, "The proxy is shutting down; retry shortly");
    if (options_.max_in_flight != 0 &&
        static_cast<std::size_t>(options_.in_flight->total()) >= options_.max_in_flight)
      return make_api_error(529, "The proxy is serving its limit of " +
                                     std::to_string(options_.max_in_flight) +
                                     " requests at once; retry shortly");
  }
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
  // Room for the largest request head, and some pipelined bytes besides.
  link->start_reading(options_.max_header_bytes + 64 * 1024);
  for (;;) {
    if (link->buffer().size() > 0) {
      // A pipelined request: let what the last session posted (returning its upstream
      // connection) run first, as it would had this request arrived through the event loop.
      co_await net::post(link->executor(), net::use_awaitable);
    }
    incoming_request s;
    std::optional<in_flight_slot> admitted;
    {
      // The parser lives only while the request is read: a request in flight holds no parser.
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      // Any family's limit while the head is read; the route's own is judged from the head.
      parser.body_limit(std::max<std::uint64_t>(options_.max_body_bytes, largest_body_limit()));
      parser.eager(false); // the head first: the body only once the route checks passed
      auto ec =
          co_await read_until(*link, parser, steady_clock::now() + options_.client_idle_timeout,
                              [&] { return parser.is_header_done(); });
      auto received = steady_clock::now();
      auto request_id = new_request_id();
      if (ec) {
        if (auto err = read_error(ec)) {
          link->keep_alive = false; // the rest of the stream cannot be trusted
          co_await write_error(*link, *err, request_id);
          log_refusal(link->worker(), request_id, parser.get(), "unparsed", *err, received);
          co_await close_gracefully(*link);
          co_return;
        }
        break;
      }
      auto &req = parser.get();
      link->version = req.version();
      link->keep_alive = req.keep_alive() && !draining();
      link->response_started = false;

      // Judge the request by its head, before accepting a body of up to max_body_bytes.
      auto kind = classify(req.method(), req.target(), !options_.admin_key.empty());
      auto mode = body_of(kind, req.method());
      auto head_fields = std::distance(req.begin(), req.end());
      if (auto refusal = refusal_for(kind, mode, parser, static_cast<std::size_t>(head_fields))) {
        if (!parser.is_done() || refusal->status == 400 || refusal->status == 431)
          link->keep_alive = false; // an unread body, or a head not to be trusted
        bool sent = co_await write_error(*link, *refusal, request_id);
        log_refusal(link->worker(), request_id, req, route_name(kind), *refusal, received);
        if (!sent)
          break;
        if (!link->keep_alive) { // the client's Connection: close and HTTP/1.0 too
          co_await close_gracefully(*link);
          co_return;
        }
        continue;
      }
      // Admitted: counted from here until the session is done with the connection.
      admitted.emplace(*options_.in_flight, link->worker());
      if (!parser.is_done() && req[http::field::expect] == "100-continue" &&
          link->buffer().size() == 0) {
        // Clients that ask wait (curl: 1 s) before sending the body unless told to go on.
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        std::array<net::const_buffer, 1> interim{net::buffer(go_on.data(), go_on.size())};
        if (!co_await link->send(interim))
          break;
      }
      if (mode == body_mode::streamed) {
        // The body stays on the connection: the relay streams it upstream as it arrives.
        s.streamed = streamed_body{parser.chunked(), parser.content_length().value_or(0),
                                   body_limit_of(kind, mode), options_.client_idle_timeout};
        link->body_unread = !parser.is_done();
      } else if (!parser.is_done()) {
        parser.body_limit(options_.max_body_bytes);
        parser.eager(true);
        // The body gets a fresh allowance.
        ec = co_await read_until(*link, parser, steady_clock::now() + options_.client_idle_timeout,
                                 [&] { return parser.is_done(); });
        if (ec) {
          if (auto err = read_error(ec)) {
            link->keep_alive = false;
            co_await write_error(*link, *err, request_id);
            log_refusal(link->worker(), request_id, req, route_name(kind), *err, received);
            co_await close_gracefully(*link);
            co_return;
          }
          break;
        }
      }
      // Fields that arrive after a chunked body (trailers) are not headers: they must not reach
      // the upstream as headers (RFC 9110 6.5.1). The parser appends them, so drop what follows.
      if (parser.chunked() && mode != body_mode::streamed)
        for (auto extra = std::distance(req.begin(), req.end()) - head_fields; extra > 0; --extra)
          req.erase(std::prev(req.end()));
      s.client = link;
      s.serial = link->serial();
      s.kind = kind;
      s.method = req.method();
      s.target = std::string(req.target());
      s.headers = std::move(static_cast<http::fields &>(req));
      s.body = std::make_shared<const std::string>(std::move(req.body()));
      s.request_id = std::move(request_id);
      s.received = received;
    }
    handler_(std::move(s));
    // The session's work (a relay, a response) runs here, on this coroutine, until it is done.
    while (auto work = co_await link->next_work())
      co_await work();
    admitted.reset();
    if (link->body_unread) {
      // The answer came before the whole body was read: what follows is not a request.
      co_await close_gracefully(*link);
      co_return;
    }
    if (!link->keep_alive || draining() || !link->socket().is_open())
      break;
  }
  error_code ignored;
  link->socket().shutdown(tcp::socket::shutdown_send, ignored);
  link->close();
}

} // namespace proxy
