#include "io/relay.hpp"

#include "core/clock.hpp"
#include "policy/body_decoder.hpp"
#include "policy/header_policy.hpp"
#include "policy/results_url.hpp"
#include "policy/retry_policy.hpp"

#include <boost/container/static_vector.hpp>

#include <array>
#include <charconv>
#include <random>
#include <vector>

namespace proxy {
namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;    ///< per network thread, not per stream
constexpr std::size_t max_json_capture = 1024 * 1024;  ///< non-stream body kept to read usage
constexpr std::uint32_t max_response_head = 64 * 1024; ///< the upstream's response head
constexpr std::size_t max_held = 2048; ///< stream bytes held back while a retry is possible
using failure_kind = relay_outcome::failure_kind;

/// Where upstream bytes land. One per thread: every relay on the thread uses it, and each is done
/// with what it read before it next waits (anything still needed is copied first).
std::span<char> thread_read_buffer() {
  thread_local std::vector<char> buffer(read_buffer_size);
  return buffer;
}

/// Errors after which a connection that had carried requests before is worth one fresh try:
/// the upstream closed it while idle, before it read our request.
bool stale_connection_error(const error_code &ec) {
  return ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == ssl::error::stream_truncated;
}

api_error upstream_io_error(const error_code &ec, std::string_view phase,
                            std::chrono::seconds timeout) {
  if (ec == beast::error::timeout)
    return make_api_error(504, "upstream timed out " + std::string(phase) + " (after " +
                                   std::to_string(timeout.count()) + " s)");
  return make_api_error(502,
                        "upstream connection failed " + std::string(phase) + ": " + ec.message());
}

/// 0..1, for the jitter of retry backoff.
double jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

/// Turns `out` into a retry after an attempt that failed for `reason`.
void plan_retry(relay_outcome &out, std::string reason, std::chrono::milliseconds wait) {
  out.what = relay_outcome::kind::retry;
  out.retry_reason = std::move(reason);
  out.retry_wait = wait;
}

/// The wait before a retry the upstream did not time itself.
std::chrono::milliseconds backoff(const relay_params &p) {
  return retry_wait({}, {}, p.attempt, p.retry_max_wait, jitter()).value_or(p.retry_max_wait);
}

/// What a request still in flight gets when the proxy stops waiting for it (drain timeout).
api_error cut_off_error() {
  return make_api_error(529, "The proxy is shutting down and could not finish this request");
}

/// The SSE comment that keeps a quiet stream open; parsers ignore it.
constexpr std::string_view keepalive_comment = ": keep-alive\n\n";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// Statuses whose responses never have a body (RFC 9110 6.4.1).
bool bodiless(unsigned status, bool head_request) {
  return status == 204 || status == 304 || head_request;
}

/// The pieces of one write to the client: maybe the head, maybe one chunk of body, maybe the
/// end of the body. Views only; the caller keeps what they point to alive.
class client_write {
public:
  void add(std::string_view bytes) {
    if (!bytes.empty())
      buffers_.push_back(net::buffer(bytes.data(), bytes.size()));
  }
  void add_body(std::string_view bytes, bool chunked) {
    if (bytes.empty())
      return;
    if (chunked) {
      auto [end, ec] = std::to_chars(size_line_.data(), size_line_.data() + 16, bytes.size(), 16);
      *end++ = '\r';
      *end++ = '\n';
      add(std::string_view(size_line_.data(), static_cast<std::size_t>(end - size_line_.data())));
      add(bytes);
      add("\r\n");
    } else {
      add(bytes);
    }
  }
  bool empty() const { return buffers_.empty(); }
  std::span<const net::const_buffer> buffers() const { return buffers_; }

private:
  std::array<char, 20> size_line_;
  boost::container::static_vector<net::const_buffer, 8> buffers_;
};

/// How streaming a request body upstream ended.
struct body_pumped {
  error_code upstream;             ///< the upstream stopped taking it (its answer may say why)
  std::optional<api_error> client; ///< the client's body was at fault
  bool client_gone = false;        ///< the client left or went quiet for too long
};

/// Streams the client's request body upstream as it arrives: what the client sent is decoded
/// (Content-Length or chunked) in the connection's own buffer and written on, re-chunked when
/// it came chunked. Only what the upstream took is consumed, so a slow upstream stops the
/// client's reads once the connection's buffer is full: memory does not grow with the body.
task<body_pumped> pump_body(upstream_connection &up, client_link &client, const streamed_body &b,
                            std::chrono::seconds upstream_timeout) {
  body_decoder decoder = b.chunked ? body_decoder(body_decoder::framing::chunked)
                                   : body_decoder(body_decoder::framing::length, b.length);
  std::uint64_t total = 0;
  std::string pending; // what the upstream did not take at once (the client's buffer may move)
  body_pumped out;
  while (client.body_unread) {
    auto &buffer = client.buffer();
    body_decoder::step step;
    if (buffer.size() > 0) // (an empty buffer may have no memory at all)
      step = decoder.decode(static_cast<char *>(buffer.data().data()), buffer.size());
    total += step.data;
    if (decoder.failed()) {
      out.client = make_api_error(400, "Malformed chunked request body");
      co_return out;
    }
    if (total > b.limit) {
      out.client = make_api_error(413, "Request body is larger than this proxy's limit (" +
                                           std::to_string(b.limit) + " bytes)");
      co_return out;
    }
    client_write write;
    write.add_body(std::string_view(static_cast<const char *>(buffer.data().data()), step.data),
                   b.chunked);
    if (decoder.done()) {
      client.body_unread = false;
      if (b.chunked)
        write.add("0\r\n\r\n");
    }
    if (!write.empty()) {
      auto now = up.write_now(write.buffers());
      if (now.ec == net::error::would_block) {
        beast::buffers_suffix<std::span<const net::const_buffer>> rest(write.buffers());
        rest.consume(now.bytes);
        for (auto piece : rest)
          pending.append(static_cast<const char *>(piece.data()), piece.size());
      } else if (now.ec) {
        out.upstream = now.ec;
        co_return out;
      }
    }
    buffer.consume(step.consumed);
    client.consumed();
    if (!pending.empty()) {
      std::array<net::const_buffer, 1> rest{net::buffer(pending)};
      out.upstream = co_await up.write_all(rest, steady_clock::now() + upstream_timeout);
      pending.clear();
      if (out.upstream)
        co_return out;
    }
    if (step.consumed > 0 || !client.body_unread)
      continue;
    // Nothing usable is buffered: wait for the client's next bytes. A client that went quiet
    // is treated as gone (as when the server reads a whole body): its input has ended.
    if (co_await client.wait_input(steady_clock::now() + b.idle_timeout)) {
      out.client_gone = true;
      co_return out;
    }
  }
  co_return out;
}

/// Sends the request and reads the final response head into `parser`. Bytes read past the head
/// are left in `carry`. A pooled connection the upstream has closed while idle is replaced
/// before use; after a request was written completely it is never sent again (a POST may
/// already be generating, and billing).
task<bool> send_request(upstream_connection &up, client_link &client, const relay_params &p,
                        std::optional<http::response_parser<http::empty_body>> &parser,
                        std::string &carry, relay_outcome &out) {
  if (up.connected() && !up.idle_and_alive())
    up.reset();
  for (int attempt = 0;; ++attempt) {
    bool reused = up.connected();
    if (!reused)
      if (auto err = co_await up.connect(p.connect_timeout)) {
        out.error = *err;
        out.failure = failure_kind::connect; // nothing was sent
        co_return false;
      }
    std::array<net::const_buffer, 2> request{net::buffer(p.head),
                                             p.body ? net::buffer(*p.body) : net::const_buffer{}};
    auto now = up.write_now(request); // all of it, usually: no waiting, no coroutine
    auto ec = now.ec;
    if (ec == net::error::would_block) {
      beast::buffers_suffix<std::span<const net::const_buffer>> rest(request);
      rest.consume(now.bytes);
      std::vector<net::const_buffer> pieces(rest.begin(), rest.end());
      ec = co_await up.write_all(pieces, steady_clock::now() + p.upstream_timeout);
    }
    if (!ec)
      break;
    // Not all of the request left: the upstream cannot have acted on it.
    if (reused && attempt == 0 && stale_connection_error(ec)) {
      up.reset();
      continue;
    }
    up.close();
    out.error = upstream_io_error(ec, "while sending the request", p.upstream_timeout);
    out.failure = ec == beast::error::timeout ? failure_kind::timeout : failure_kind::reset;
    co_return false;
  }

  error_code send_error; // the upstream stopped taking a streamed body: its answer may say why
  if (p.streamed) {
    auto pumped = co_await pump_body(up, client, *p.streamed, p.upstream_timeout);
    if (pumped.client || pumped.client_gone) {
      up.close(); // the upstream has part of a request: this connection is done
      out.client_gone = pumped.client_gone;
      if (pumped.client)
        out.error = *pumped.client;
      co_return false;
    }
    send_error = pumped.upstream;
  }

  // The wait for the answer may be long: a client that leaves meanwhile closes the upstream
  // connection, which ends the wait.
  client.on_input_end([weak = up.weak_from_this()] {
    if (auto conn = weak.lock())
      conn->close();
  });
  auto deadline = steady_clock::now() + (send_error ? std::chrono::seconds(5) : p.upstream_timeout);
  auto buffer = thread_read_buffer();
  auto new_parser = [&] {
    parser.emplace();
    parser->eager(false);
    parser->header_limit(max_response_head);
    parser->body_limit(boost::none); // the body is decoded and relayed as it comes, not held
    parser->skip(p.head_request);
  };
  new_parser();
  bool read_more = true; // false: what is already here (after an interim head) comes first
  for (;;) {
    if (carry.size() >= buffer.size()) {
      up.close();
      out.failure = failure_kind::malformed;
      out.error = make_api_error(502, "the upstream's response head is too large");
      co_return false;
    }
    std::size_t fresh = 0;
    if (read_more) {
      auto r = co_await up.read(buffer.subspan(carry.size()), deadline);
      if (r.ec) {
        if (client.input_ended()) {
          out.client_gone = true;
          co_return false;
        }
        up.close();
        if (send_error) {
          out.error =
              upstream_io_error(send_error, "while sending the request", p.upstream_timeout);
          out.failure = failure_kind::reset;
          co_return false;
        }
        out.error = client.is_cut_off()
                        ? cut_off_error()
                        : upstream_io_error(r.ec, "before answering", p.upstream_timeout);
        if (!client.is_cut_off())
          out.failure = r.ec == beast::error::timeout ? failure_kind::timeout : failure_kind::reset;
        co_return false;
      }
      fresh = r.bytes;
    }
    // Only now, after the wait: other relays on this thread use the buffer meanwhile.
    std::copy(carry.begin(), carry.end(), buffer.begin());
    std::size_t n = carry.size() + fresh;
    error_code ec;
    std::size_t used = parser->put(net::const_buffer(buffer.data(), n), ec);
    carry.assign(buffer.data() + used, n - used);
    read_more = true;
    if (ec == http::error::need_more)
      continue;
    if (ec) {
      up.close();
      out.failure = failure_kind::malformed;
      out.error = make_api_error(502, "the upstream sent a malformed response: " + ec.message());
      co_return false;
    }
    // Interim 1xx heads are not the answer: read on until the final one.
    if (parser->get().result_int() / 100 == 1) {
      new_parser();
      read_more = carry.empty();
      continue;
    }
    co_return true;
  }
}

/// Reads the rest of a response body (what `carry` holds first) into `whole`, up to `max` bytes.
/// False when it broke off, was malformed or too large; `reusable` turns false when bytes
/// followed it.
task<bool> read_whole_body(upstream_connection &up, body_decoder &body, std::string &carry,
                           std::string &whole, std::size_t max, std::chrono::seconds timeout,
                           bool &reusable) {
  auto buffer = thread_read_buffer();
  auto deadline = steady_clock::now() + timeout;
  std::copy(carry.begin(), carry.end(), buffer.begin());
  std::size_t avail = carry.size();
  for (;;) {
    auto step = body.decode(buffer.data(), avail);
    whole.append(buffer.data(), step.data);
    if (body.done()) {
      reusable = reusable && step.consumed == avail;
      co_return true;
    }
    if (body.failed() || whole.size() > max)
      co_return false;
    carry.assign(buffer.data() + step.consumed, avail - step.consumed);
    auto r = co_await up.read(buffer.subspan(carry.size()), deadline);
    if (r.ec == net::error::eof && body.until_close()) {
      reusable = false;
      co_return true;
    }
    if (r.ec)
      co_return false;
    std::copy(carry.begin(), carry.end(), buffer.begin());
    avail = carry.size() + r.bytes;
  }
}

/// Relays a JSON answer whose batches' results_url must name the proxy: read whole, rewritten,
/// then sent with its new length.
task<> relay_rewritten(upstream_connection &up, client_link &client, const relay_params &p,
                       const http::response_header<> &head, body_decoder &body, std::string &carry,
                       bool reusable, relay_outcome &out) {
  constexpr std::size_t max_rewritten = 16u << 20;
  std::string whole;
  if (!co_await read_whole_body(up, body, carry, whole, max_rewritten, p.stream_idle_timeout,
                                reusable)) {
    up.close();
    out.failure = failure_kind::malformed;
    out.error = make_api_error(502, "the upstream's batch answer was cut short or too large");
    co_return;
  }
  if (auto moved = rewrite_results_urls(whole, p.results_origin))
    whole = std::move(*moved);
  std::string client_head;
  append_status_line(client_head, client.version, out.status, head.reason());
  append_response_headers(client_head, head);
  end_response_head(client_head, client.version, body_framing::length, whole.size(),
                    client.keep_alive);
  out.what = relay_outcome::kind::relayed;
  client.response_started = true;
  std::array<net::const_buffer, 2> response{net::buffer(client_head), net::buffer(whole)};
  if (!co_await client.send(response)) {
    out.client_gone = true;
    up.close();
    co_return;
  }
  out.first_byte = steady_clock::now();
  out.upstream_reusable = reusable;
  if (!reusable)
    up.close();
}

task<> exchange(upstream_connection &up, client_link &client, const relay_params &p,
                relay_outcome &out) {
  std::string carry; // bytes read but not used yet: an incomplete head or chunk-size line
  std::optional<http::response_parser<http::empty_body>> parser;
  if (!co_await send_request(up, client, p, parser, carry, out)) {
    // Retried when the request cannot have been acted on, or the connection broke before an
    // answer. Never after a timeout: the upstream may still be working on it.
    if (p.may_retry && (out.failure == failure_kind::connect || out.failure == failure_kind::reset))
      plan_retry(out, failure_name(out.failure), backoff(p));
    co_return;
  }
  const auto &head = parser->get();
  out.status = head.result_int();
  out.upstream_request_id = std::string(head["request-id"]);
  if (p.rate_limits) {
    // Handed on now, as views into the head: a long stream holds no copy.
    boost::container::static_vector<std::pair<std::string_view, std::string_view>, 32> limits;
    for (const auto &field : head)
      if (is_rate_limit_header(field.name_string()) && limits.size() < limits.capacity())
        limits.emplace_back(field.name_string(), field.value());
    p.rate_limits->update(limits, unix_now_ms());
  }
  if (p.may_retry && retryable_status(out.status, head["x-should-retry"]))
    if (auto wait = retry_wait(head["retry-after"], head["retry-after-ms"], p.attempt,
                               p.retry_max_wait, jitter())) {
      plan_retry(out, "status_" + std::to_string(out.status), *wait);
      up.close(); // its body is of no use
      co_return;
    }
  if (out.status == 401 && p.intercept_unauthorized) {
    out.what = relay_outcome::kind::unauthorized;
    up.close();
    co_return;
  }

  // The client's response head: the upstream's status and end-to-end headers, our framing.
  bool sse = starts_with(head[http::field::content_type], "text/event-stream");
  bool json = starts_with(head[http::field::content_type], "application/json");
  auto length = parser->content_length();
  body_decoder body;
  body_framing framing = body_framing::none;
  if (!bodiless(out.status, p.head_request)) {
    body = parser->chunked() ? body_decoder(body_decoder::framing::chunked)
           : length          ? body_decoder(body_decoder::framing::length, *length)
                             : body_decoder(body_decoder::framing::until_close);
    framing = length && !sse         ? body_framing::length
              : client.version >= 11 ? body_framing::chunked
                                     : body_framing::close;
  }
  if (framing == body_framing::close || client.body_unread)
    client.keep_alive = false; // HTTP/1.0, or the upstream answered before the body was sent
  bool upstream_keep_alive = parser->keep_alive() && !client.body_unread;
  if (!p.results_origin.empty() && json && out.status / 100 == 2 &&
      !bodiless(out.status, p.head_request)) {
    co_await relay_rewritten(up, client, p, head, body, carry, upstream_keep_alive, out);
    co_return;
  }
  std::string client_head;
  append_status_line(client_head, client.version, out.status, head.reason());
  append_response_headers(client_head, head);
  end_response_head(client_head, client.version, framing, length.value_or(0), client.keep_alive);
  parser.reset(); // the upstream's header fields are not needed any more
  out.what = relay_outcome::kind::relayed;

  // The body: decode what was read, pass complete events on, then read again. Nothing is read
  // ahead of what the client accepted, so a slow client holds at most one unfinished event plus
  // what the kernel would not take.
  bool chunked = framing == body_framing::chunked;
  // While a retry is possible, a stream's first events wait here (head included) until the
  // answer has begun: the client must never see an attempt that failed.
  bool holding = sse && p.may_retry && out.status == 200;
  std::string held;
  sse_framer framer;
  std::string captured;
  auto buffer = thread_read_buffer();
  std::size_t avail = carry.size();
  std::copy(carry.begin(), carry.end(), buffer.begin());
  error_code ec;
  for (;;) {
    auto step = body.decode(buffer.data(), avail);
    std::string_view bytes(buffer.data(), step.data);
    if (!body.done())
      carry.assign(buffer.data() + step.consumed, avail - step.consumed);
    else if (step.consumed < avail)
      upstream_keep_alive = false; // bytes past the body: this connection is not in a known state
    if (sse)
      bytes = framer.feed(bytes);
    else if (json && captured.size() + bytes.size() <= max_json_capture)
      captured.append(bytes);
    if (holding) {
      if (framer.overloaded_before_content()) {
        up.close();
        plan_retry(out, "overloaded_event", backoff(p));
        co_return;
      }
      held.append(bytes);
      framer.release();
      bytes = {};
      if (framer.content_started() || held.size() >= max_held || body.done() || body.failed()) {
        holding = false;
        bytes = held;
      }
    }

    client_write write;
    if (!holding)
      write.add(client_head);
    write.add_body(bytes, chunked);
    std::string_view rest;
    if (body.done()) {
      if (sse)
        rest = framer.flush();
      write.add_body(rest, chunked);
      if (chunked)
        write.add("0\r\n\r\n");
    }
    if (!write.empty()) {
      client.response_started = true;
      auto sent = client.send_now(write.buffers());
      if (sent == client_link::sent::failed ||
          (sent == client_link::sent::rest_kept && !co_await client.send_rest())) {
        out.client_gone = true;
        up.close();
        co_return;
      }
      if (!client_head.empty()) {
        out.first_byte = steady_clock::now();
        std::string().swap(client_head);
      }
      framer.release();
      std::string().swap(held);
    }
    if (body.done() || body.failed())
      break;

    // Read more, waiting as long as the stream may stay silent; a quiet stream gets a comment
    // now and then (between events only, and only once its head went out).
    auto idle_deadline = steady_clock::now() + p.stream_idle_timeout;
    io_result r;
    for (;;) {
      auto until = idle_deadline;
      if (sse && p.keepalive.count() > 0)
        until = std::min(until, steady_clock::now() + p.keepalive);
      r = co_await up.read(buffer.subspan(carry.size()), until);
      if (r.ec != beast::error::timeout || until >= idle_deadline)
        break;
      if (framer.mid_event() || !client_head.empty())
        continue;
      client_write comment;
      comment.add_body(keepalive_comment, chunked);
      if (!co_await client.send(comment.buffers())) {
        out.client_gone = true;
        up.close();
        co_return;
      }
    }
    if (r.ec == net::error::eof && body.until_close()) {
      body = body_decoder(); // the upstream's close ended the body
      avail = 0;
      upstream_keep_alive = false;
      continue;
    }
    if (r.ec) {
      ec = r.ec;
      break;
    }
    std::copy(carry.begin(), carry.end(), buffer.begin());
    avail = carry.size() + r.bytes;
  }

  if (client.input_ended()) {
    out.client_gone = true;
    co_return;
  }
  if (ec || body.failed()) {
    // The upstream broke off. A stream gets a well-formed error event and a proper end; any
    // other body can only be cut short, which the client notices by the closed connection.
    out.stream_broken = true;
    out.failure = client.is_cut_off() ? failure_kind::none : failure_kind::stream_broken;
    up.close();
    if (sse && framer.mid_event()) {
      // Part of an event too large to hold already went out: anything that ended it would
      // make the client dispatch half an event. Cut the response off instead (no last chunk):
      // the client's SDK reports the broken connection as an error.
      client.keep_alive = false;
    } else if (sse) {
      std::string tail;
      auto err = client.is_cut_off() ? cut_off_error()
                 : body.failed()
                     ? make_api_error(502, "the upstream sent malformed chunked framing")
                     : upstream_io_error(ec, "mid-stream", p.stream_idle_timeout);
      tail += sse_error_event(err.type, err.message);
      client_write write;
      write.add(client_head); // still there when the stream broke while held back
      write.add_body(held, chunked);
      write.add_body(tail, chunked);
      client.response_started = true;
      if (chunked)
        write.add("0\r\n\r\n");
      co_await client.send(write.buffers());
    } else {
      client.keep_alive = false;
    }
  } else {
    out.upstream_reusable = upstream_keep_alive;
    if (!upstream_keep_alive)
      up.close();
  }
  if (sse)
    out.usage = framer.usage();
  else if (json && out.status < 400)
    read_usage_json(captured, out.usage);
  else if (json)
    out.upstream_error = error_of(captured);
}

} // namespace

task<relay_outcome> relay(std::shared_ptr<upstream_connection> up,
                          std::shared_ptr<client_link> client, const relay_params &p) {
  relay_outcome out;
  if (client->is_cut_off())
    out.error = cut_off_error();   // shutting down: no new upstream request
  else if (!client->input_ended()) // (a client may leave while a retry waits)
    co_await exchange(*up, *client, p, out);
  client->on_input_end({});
  out.client_gone = out.client_gone || client->input_ended();
  if (out.client_gone) {
    out.upstream_reusable = false;
    client->keep_alive = false;
    up->close();
    client->close();
  }
  co_return out;
}

} // namespace proxy
