#include "io/relay.hpp"

#include "policy/body_decoder.hpp"
#include "policy/header_policy.hpp"

#include <boost/container/static_vector.hpp>

#include <array>
#include <charconv>
#include <vector>

namespace proxy {
namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;    ///< per network thread, not per stream
constexpr std::size_t max_pipelined = 64 * 1024;       ///< client bytes read ahead while relaying
constexpr std::size_t max_json_capture = 1024 * 1024;  ///< non-stream body kept to read usage
constexpr std::uint32_t max_response_head = 64 * 1024; ///< the upstream's response head

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

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// Statuses whose responses never have a body (RFC 9110 6.4.1).
bool bodiless(unsigned status, bool head_request) {
  return status == 204 || status == 304 || head_request;
}

/// Watches the client socket while an exchange runs, only to learn that the client left
/// (pipelined bytes are kept for the next request). A departed client closes both connections,
/// which ends whatever the exchange waits for. Waiting costs no buffer.
class client_watch {
public:
  client_watch(std::shared_ptr<client_link> client, std::shared_ptr<upstream_connection> up)
      : state_(std::make_shared<state>(std::move(client), std::move(up))) {
    arm(state_);
  }
  ~client_watch() {
    state_->active = false;
    error_code ignored;
    state_->client->stream().socket().cancel(ignored);
  }
  bool client_gone() const { return state_->gone; }

private:
  struct state {
    state(std::shared_ptr<client_link> c, std::shared_ptr<upstream_connection> u)
        : client(std::move(c)), up(std::move(u)) {}
    std::shared_ptr<client_link> client;
    std::shared_ptr<upstream_connection> up;
    bool active = true;
    bool gone = false;
  };

  static void arm(const std::shared_ptr<state> &st) {
    st->client->stream().socket().async_wait(tcp::socket::wait_read, [st](error_code ec) {
      if (!st->active)
        return;
      auto &buffer = st->client->buffer();
      if (!ec) {
        std::size_t n = st->client->stream().socket().read_some(buffer.prepare(4096), ec);
        buffer.commit(n);
        if (ec == net::error::would_block)
          ec = {};
      }
      if (ec) {
        st->gone = true;
        st->client->keep_alive = false;
        st->up->close();
        error_code ignored;
        st->client->stream().socket().close(ignored);
        return;
      }
      if (buffer.size() < max_pipelined)
        arm(st);
    });
  }

  std::shared_ptr<state> state_;
};

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

/// Sends the request and reads the final response head into `parser`. Bytes read past the head
/// are left in `carry`. A pooled connection the upstream has closed while idle is replaced
/// before use; after a request was written completely it is never sent again (a POST may
/// already be generating, and billing).
task<bool> send_request(upstream_connection &up, const relay_params &p, const client_watch &watch,
                        std::optional<http::response_parser<http::empty_body>> &parser,
                        std::string &carry, relay_outcome &out) {
  if (up.connected() && !up.idle_and_alive())
    up.reset();
  for (int attempt = 0;; ++attempt) {
    bool reused = up.connected();
    if (!reused)
      if (auto err = co_await up.connect(p.connect_timeout)) {
        out.error = *err;
        co_return false;
      }
    std::array<net::const_buffer, 2> request{net::buffer(p.head),
                                             p.body ? net::buffer(*p.body) : net::const_buffer{}};
    auto ec = co_await up.write_all(request, steady_clock::now() + p.upstream_timeout);
    if (!ec)
      break;
    if (watch.client_gone()) {
      out.client_gone = true;
      co_return false;
    }
    // Not all of the request left: the upstream cannot have acted on it.
    if (reused && attempt == 0 && stale_connection_error(ec)) {
      up.reset();
      continue;
    }
    up.close();
    out.error = upstream_io_error(ec, "while sending the request", p.upstream_timeout);
    co_return false;
  }

  auto deadline = steady_clock::now() + p.upstream_timeout;
  auto buffer = thread_read_buffer();
  auto new_parser = [&] {
    parser.emplace();
    parser->eager(false);
    parser->header_limit(max_response_head);
    parser->skip(p.head_request);
  };
  new_parser();
  for (;;) {
    if (carry.size() >= buffer.size()) {
      up.close();
      out.error = make_api_error(502, "the upstream's response head is too large");
      co_return false;
    }
    std::copy(carry.begin(), carry.end(), buffer.begin());
    auto r = up.read_some(buffer.subspan(carry.size()));
    if (r.ec == net::error::would_block) {
      // Nothing of ours sits in the thread buffer across this wait: the carry holds it.
      if (auto ec = co_await up.wait_readable(deadline)) {
        if (watch.client_gone()) {
          out.client_gone = true;
          co_return false;
        }
        up.close();
        out.error = upstream_io_error(ec, "before answering", p.upstream_timeout);
        co_return false;
      }
      continue;
    }
    if (r.ec) {
      up.close();
      out.error = upstream_io_error(r.ec, "before answering", p.upstream_timeout);
      co_return false;
    }
    std::size_t n = carry.size() + r.bytes;
    error_code ec;
    std::size_t used = parser->put(net::const_buffer(buffer.data(), n), ec);
    carry.assign(buffer.data() + used, n - used);
    if (ec == http::error::need_more)
      continue;
    if (ec) {
      up.close();
      out.error = make_api_error(502, "the upstream sent a malformed response: " + ec.message());
      co_return false;
    }
    // Interim 1xx heads are not the answer: read on until the final one.
    if (parser->get().result_int() / 100 == 1) {
      new_parser();
      continue;
    }
    co_return true;
  }
}

task<> exchange(upstream_connection &up, client_link &client, const relay_params &p,
                const client_watch &watch, relay_outcome &out) {
  std::string carry; // bytes read but not used yet: an incomplete head or chunk-size line
  std::optional<http::response_parser<http::empty_body>> parser;
  if (!co_await send_request(up, p, watch, parser, carry, out))
    co_return;
  const auto &head = parser->get();
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
  if (framing == body_framing::close)
    client.keep_alive = false; // HTTP/1.0: the end of the body is the end of the connection
  bool upstream_keep_alive = parser->keep_alive();
  std::string client_head;
  append_status_line(client_head, client.version, out.status, head.reason());
  append_response_headers(client_head, head);
  end_response_head(client_head, client.version, framing, length.value_or(0), client.keep_alive);
  parser.reset(); // the upstream's header fields are not needed any more
  out.what = relay_outcome::kind::relayed;
  client.response_started = true;

  // The body: decode what was read, pass complete events on, then read again. Nothing is read
  // ahead of what the client accepted, so a slow client holds at most one unfinished event plus
  // what the kernel would not take.
  bool chunked = framing == body_framing::chunked;
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

    client_write write;
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
      if (!co_await client.send(write.buffers())) {
        out.client_gone = true;
        up.close();
        co_return;
      }
      if (!client_head.empty()) {
        out.first_byte = steady_clock::now();
        std::string().swap(client_head);
      }
      framer.release();
    }
    if (body.done() || body.failed())
      break;

    // Read more, waiting as long as the stream may stay silent.
    std::copy(carry.begin(), carry.end(), buffer.begin());
    io_result r;
    for (;;) {
      r = up.read_some(buffer.subspan(carry.size()));
      if (r.ec != net::error::would_block)
        break;
      if ((ec = co_await up.wait_readable(steady_clock::now() + p.stream_idle_timeout)))
        break;
      std::copy(carry.begin(), carry.end(), buffer.begin());
    }
    if (ec)
      break;
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
    avail = carry.size() + r.bytes;
  }

  if (watch.client_gone()) {
    out.client_gone = true;
    co_return;
  }
  if (ec || body.failed()) {
    // The upstream broke off. A stream gets a well-formed error event and a proper end; any
    // other body can only be cut short, which the client notices by the closed connection.
    out.stream_broken = true;
    up.close();
    if (sse) {
      std::string tail = framer.mid_event() ? "\n\n" : "";
      auto err = body.failed() ? make_api_error(502, "the upstream sent malformed chunked framing")
                               : upstream_io_error(ec, "mid-stream", p.stream_idle_timeout);
      tail += sse_error_event(err.type, err.message);
      client_write write;
      write.add_body(tail, chunked);
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
  else if (json)
    read_usage_json(captured, out.usage);
}

} // namespace

task<relay_outcome> relay(std::shared_ptr<upstream_connection> up,
                          std::shared_ptr<client_link> client, relay_params p) {
  relay_outcome out;
  {
    client_watch watch(client, up);
    co_await exchange(*up, *client, p, watch, out);
    out.client_gone = out.client_gone || watch.client_gone();
  }
  if (out.client_gone) {
    out.upstream_reusable = false;
    client->keep_alive = false;
  }
  co_return out;
}

} // namespace proxy
