#include "http/relay.hpp"

#include "http/header_policy.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <array>

namespace proxy {
namespace {

constexpr std::size_t read_chunk = 16 * 1024;         ///< upstream bytes read per step
constexpr std::size_t max_pipelined = 64 * 1024;      ///< client bytes read ahead while relaying
constexpr std::size_t max_json_capture = 1024 * 1024; ///< non-stream body kept to read usage

/// Errors after which a connection that had carried requests before is worth one fresh try:
/// the upstream closed it while idle, before it read our request.
bool stale_connection_error(const error_code &ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

api_error upstream_io_error(const error_code &ec, std::string_view phase,
                            std::chrono::seconds timeout) {
  if (ec == beast::error::timeout)
    return make_api_error(504, "upstream timed out " + std::string(phase) + " (after " +
                                   std::to_string(timeout.count()) + " s)");
  return make_api_error(502,
                        "upstream connection failed " + std::string(phase) + ": " + ec.message());
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

task<bool> write_body(client_link &client, std::string_view bytes, bool chunked) {
  client.stream().expires_after(client.write_timeout);
  error_code ec;
  if (chunked && bytes.empty())
    std::tie(ec, std::ignore) =
        co_await net::async_write(client.stream(), http::make_chunk_last(), use_tuple);
  else if (chunked)
    std::tie(ec, std::ignore) = co_await net::async_write(
        client.stream(), http::make_chunk(net::buffer(bytes.data(), bytes.size())), use_tuple);
  else
    std::tie(ec, std::ignore) = co_await net::async_write(
        client.stream(), net::buffer(bytes.data(), bytes.size()), use_tuple);
  co_return !ec;
}

/// Sends the request and reads the final response head. A pooled connection the upstream has
/// closed while idle is replaced before use; after a request was written completely it is
/// never sent again (a POST may already be generating, and billing).
task<bool> send_request(upstream_connection &up, const relay_params &p,
                        std::optional<http::response_parser<http::buffer_body>> &parser,
                        relay_outcome &out) {
  if (up.connected() && !up.idle_and_alive())
    up.reset();
  for (int attempt = 0;; ++attempt) {
    bool reused = up.connected();
    if (!reused) {
      if (auto err = co_await up.connect(p.connect_timeout)) {
        out.error = *err;
        co_return false;
      }
    }
    http::request<http::span_body<const char>> req{p.method, p.target, 11};
    for (const auto &h : p.headers)
      req.insert(h.name_string(), h.value());
    req.set(http::field::host, up.url().host_header());
    if (p.body && !p.body->empty())
      req.body() = {p.body->data(), p.body->size()};
    req.prepare_payload();
    req.keep_alive(true);

    up.tcp().expires_after(p.upstream_timeout);
    auto [wec, wn] =
        co_await up.with_stream([&](auto &s) { return http::async_write(s, req, use_tuple); });
    if (wec) {
      // Not all of the request left: the upstream cannot have acted on it.
      if (reused && attempt == 0 && stale_connection_error(wec)) {
        up.reset();
        continue;
      }
      up.close();
      out.error = upstream_io_error(wec, "while sending the request", p.upstream_timeout);
      co_return false;
    }
    // Interim 1xx heads are not the answer: read on until the final one.
    error_code ec;
    do {
      parser.emplace();
      parser->body_limit(boost::none); // SSE bodies are unbounded; we never hold them whole
      std::tie(ec, std::ignore) = co_await up.with_stream(
          [&](auto &s) { return http::async_read_header(s, up.buffer(), *parser, use_tuple); });
    } while (!ec && parser->get().result_int() / 100 == 1);
    if (ec) {
      up.close();
      out.error = upstream_io_error(ec, "before answering", p.upstream_timeout);
      co_return false;
    }
    co_return true;
  }
}

/// Statuses whose responses never have a body (RFC 9110 6.4.1).
bool bodiless(unsigned status, http::verb method) {
  return status == 204 || status == 304 || method == http::verb::head;
}

task<> exchange(upstream_connection &up, client_link &client, const relay_params &p,
                relay_outcome &out) {
  std::optional<http::response_parser<http::buffer_body>> parser;
  if (!co_await send_request(up, p, parser, out))
    co_return;
  auto &head = parser->get();
  out.status = head.result_int();
  out.upstream_request_id = std::string(head["request-id"]);
  if (out.status == 401 && p.intercept_unauthorized) {
    out.what = relay_outcome::kind::unauthorized;
    up.close();
    co_return;
  }

  // The client's response head: the upstream's status and end-to-end headers, our framing.
  bool sse = starts_with(head[http::field::content_type], "text/event-stream");
  bool json = starts_with(head[http::field::content_type], "application/json");
  http::response<http::empty_body> down;
  down.version(client.version);
  down.result(out.status); // by number: 529 has no name in Beast's table
  down.reason(head.reason());
  copy_response_headers(head, down);
  auto length = parser->content_length();
  bool chunked = false;
  if (bodiless(out.status, p.method)) {
    // nop: no body and so no framing
  } else if (length && !sse) {
    down.content_length(*length);
  } else if (client.version >= 11) {
    down.chunked(true);
    chunked = true;
  } else {
    client.keep_alive = false; // HTTP/1.0: the end of the body is the end of the connection
  }
  down.keep_alive(client.keep_alive);
  out.what = relay_outcome::kind::relayed;
  client.response_started = true;
  client.stream().expires_after(client.write_timeout);
  http::response_serializer<http::empty_body> serializer{down};
  auto [hec, hn] = co_await http::async_write_header(client.stream(), serializer, use_tuple);
  out.first_byte = std::chrono::steady_clock::now();
  if (hec) {
    out.client_gone = true;
    up.close();
    co_return;
  }

  // The body: one upstream read, one client write, then the next read. Nothing is read ahead
  // of what the client accepted, so a slow client holds at most one chunk plus one event.
  sse_framer framer;
  std::string captured;
  std::array<char, read_chunk> buf;
  error_code ec;
  while (!parser->is_done()) {
    head.body().data = buf.data();
    head.body().size = buf.size();
    up.tcp().expires_after(p.stream_idle_timeout);
    std::tie(ec, std::ignore) = co_await up.with_stream(
        [&](auto &s) { return http::async_read_some(s, up.buffer(), *parser, use_tuple); });
    if (ec == http::error::need_buffer)
      ec = {};
    std::string_view bytes(buf.data(), buf.size() - head.body().size);
    if (sse)
      bytes = framer.feed(bytes);
    else if (json && captured.size() + bytes.size() <= max_json_capture)
      captured.append(bytes);
    if (!bytes.empty() && !co_await write_body(client, bytes, chunked)) {
      out.client_gone = true;
      up.close();
      co_return;
    }
    if (ec)
      break;
  }

  if (ec) {
    // The upstream broke off. A stream gets a well-formed error event and a proper end; any
    // other body can only be cut short, which the client notices by the closed connection.
    out.stream_broken = true;
    up.close();
    if (sse) {
      std::string tail = framer.mid_event() ? "\n\n" : "";
      auto err = upstream_io_error(ec, "mid-stream", p.stream_idle_timeout);
      tail += sse_error_event(err.type, err.message);
      if (co_await write_body(client, tail, chunked) && chunked)
        co_await write_body(client, {}, true); // empty: the last chunk
    } else {
      client.keep_alive = false;
    }
  } else {
    if (sse) {
      if (auto rest = framer.flush();
          !rest.empty() && !co_await write_body(client, rest, chunked)) {
        out.client_gone = true;
        co_return;
      }
    }
    if (chunked && !co_await write_body(client, {}, true)) {
      out.client_gone = true;
      co_return;
    }
    out.upstream_reusable = parser->keep_alive();
    if (!out.upstream_reusable)
      up.close();
  }
  if (sse)
    out.usage = framer.usage();
  else if (json)
    read_usage_json(captured, out.usage);
}

/// Reads ahead on the client socket while the exchange runs, only to learn that the client left
/// (pipelined bytes are kept for the next request). A departed client closes both connections.
task<> watch_client(client_link &client, upstream_connection &up, relay_outcome &out) {
  auto &buffer = client.buffer();
  while (buffer.size() < max_pipelined) {
    auto [ec, n] =
        co_await client.stream().socket().async_read_some(buffer.prepare(4096), use_tuple);
    if (ec == net::error::operation_aborted)
      co_return; // the exchange finished first
    if (ec) {
      out.client_gone = true;
      client.keep_alive = false;
      up.close();
      error_code ignored;
      client.stream().socket().close(ignored);
      co_return;
    }
    buffer.commit(n);
  }
  net::steady_timer forever(client.executor(), std::chrono::steady_clock::time_point::max());
  co_await forever.async_wait(use_tuple);
}

} // namespace

task<relay_outcome> relay(upstream_connection &up, client_link &client, const relay_params &p) {
  using namespace net::experimental::awaitable_operators;
  relay_outcome out;
  co_await (exchange(up, client, p, out) || watch_client(client, up, out));
  if (out.client_gone) {
    out.upstream_reusable = false;
    client.keep_alive = false;
  }
  co_return out;
}

task<bool> write_response(client_link &client, unsigned status, std::string body,
                          std::string_view content_type, const http::fields *extra) {
  http::response<http::string_body> res;
  res.version(client.version);
  res.result(status);
  if (status == 529)
    res.reason("Overloaded");
  if (extra)
    for (const auto &h : *extra)
      res.insert(h.name_string(), h.value());
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  res.keep_alive(client.keep_alive);
  client.response_started = true;
  client.stream().expires_after(client.write_timeout);
  auto [ec, n] = co_await http::async_write(client.stream(), res, use_tuple);
  co_return !ec;
}

task<bool> write_error(client_link &client, api_error err, std::string request_id) {
  http::fields extra;
  extra.set("request-id", request_id);
  if (err.status == 529 || err.status == 503)
    extra.set(http::field::retry_after, "5");
  co_return co_await write_response(client, err.status, error_body(err, request_id),
                                    "application/json", &extra);
}

} // namespace proxy
