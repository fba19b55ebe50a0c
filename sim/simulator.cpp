#include "sim/simulator.hpp"

#include "sim/resources.hpp"
#include "sim/scenarios.hpp"

#include "core/text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <ctime>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace sim {

using proxy::iequals;
using proxy::trim;

std::string recorded_request::header(std::string_view name) const {
  std::string lowered = proxy::ascii_lowered(name);
  std::string out;
  bool found = false;
  for (const auto &[k, v] : headers) {
    if (k != lowered)
      continue;
    if (found)
      out += ", ";
    out += v;
    found = true;
  }
  return out;
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using string_request = http::request<http::string_body>;
using string_response = http::response<http::string_body>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t k_body_limit = 64ull * 1024 * 1024;
// File uploads may be as large as the Files API allows (500 MiB of file, plus its multipart
// framing); every other route keeps k_body_limit.
constexpr std::uint64_t k_upload_body_limit = 501ull * 1024 * 1024;
// Downloads are written in slices so that a peer going away is noticed between them.
constexpr std::size_t k_blob_slice = 256 * 1024;
constexpr std::uint32_t k_header_limit = 256 * 1024; // Claude Code sends long beta lists
constexpr std::chrono::seconds k_stall_limit{60};
constexpr std::string_view k_oauth_beta = "oauth-2025-04-20";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <class Fn> std::string write_json(Fn &&fn) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  fn(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// Issued OAuth tokens, shared by the test thread and the server thread.
class token_registry {
public:
  enum class check_result { ok, unknown, expired };

  server::token_pair issue(std::chrono::seconds lifetime) {
    std::lock_guard lock(mu_);
    return issue_locked(lifetime);
  }

  check_result check(const std::string &access_token) const {
    std::lock_guard lock(mu_);
    auto it = access_.find(access_token);
    if (it == access_.end())
      return check_result::unknown;
    return now_ms() < it->second ? check_result::ok : check_result::expired;
  }

  // Refresh tokens rotate: a successful grant invalidates the one used.
  std::optional<server::token_pair> rotate(const std::string &refresh_token,
                                           std::chrono::seconds lifetime) {
    std::lock_guard lock(mu_);
    if (refresh_.erase(refresh_token) == 0)
      return std::nullopt;
    ++refresh_count_;
    return issue_locked(lifetime);
  }

  void expire_all() {
    std::lock_guard lock(mu_);
    for (auto &[token, expires_at] : access_)
      expires_at = 0;
  }

  int refresh_count() const {
    std::lock_guard lock(mu_);
    return refresh_count_;
  }

private:
  server::token_pair issue_locked(std::chrono::seconds lifetime) {
    server::token_pair pair{
        "sk-ant-oat01-sim-" + random_suffix(), "sk-ant-ort01-sim-" + random_suffix(),
        now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count()};
    access_[pair.access_token] = pair.expires_at_ms;
    refresh_.insert(pair.refresh_token);
    return pair;
  }

  std::string random_suffix() {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out(48, ' ');
    for (auto &ch : out)
      ch = alphabet[rng_() % 64];
    return out;
  }

  mutable std::mutex mu_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::unordered_map<std::string, std::int64_t> access_; // token -> expires_at_ms
  std::unordered_set<std::string> refresh_;
  int refresh_count_ = 0;
};

// Every request received, in order, for the tests to inspect.
class request_log {
public:
  explicit request_log(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  // Returns the entry's position, for append_response().
  std::size_t add(recorded_request r) {
    if (!enabled_)
      return 0;
    std::lock_guard lock(mu_);
    entries_.push_back(std::move(r));
    return entries_.size() - 1;
  }
  void append_response(std::size_t index, std::string_view bytes) {
    if (!enabled_)
      return;
    std::lock_guard lock(mu_);
    if (index < entries_.size())
      entries_[index].response_body.append(bytes);
  }
  std::vector<recorded_request> snapshot() const {
    std::lock_guard lock(mu_);
    return entries_;
  }
  void clear() {
    std::lock_guard lock(mu_);
    entries_.clear();
  }

private:
  const bool enabled_;
  mutable std::mutex mu_;
  std::vector<recorded_request> entries_;
};

// Live connections (touched on the server thread only) and the counters tests read.
class connection_registry {
public:
  std::uint64_t add(std::function<void()> closer) {
    const auto id = ++last_id_;
    ++accepted_;
    live_[id] = std::move(closer);
    return id;
  }
  void remove(std::uint64_t id) {
    if (live_.erase(id) > 0)
      ++closed_;
  }
  void close_all() {
    // Closers end sessions asynchronously, so copy before calling.
    auto closers = live_;
    for (auto &[id, close] : closers)
      close();
  }
  int accepted() const { return accepted_.load(); }
  int closed() const { return closed_.load(); }

private:
  std::uint64_t last_id_ = 0;
  std::map<std::uint64_t, std::function<void()>> live_;
  std::atomic<int> accepted_{0}, closed_{0};
};

// What a connection must do for one request: plain answer, or one of the streamed/faulty
// behaviours that need the socket itself.
struct reply {
  // chunked: `pieces` as HTTP chunks (batch results); blob: `blob` with a Content-Length
  // (file downloads).
  enum class mode { respond, reset, stall, sse, partial_body, chunked, blob };
  mode how = mode::respond;
  string_response res; // respond/partial_body: whole response; sse/chunked/blob: its header
  std::vector<sse_event> events;
  std::chrono::milliseconds delay{0};
  fault::kind after = fault::kind::none; // sse/partial_body: reset_mid_stream, stall_mid_stream
  std::vector<std::string> pieces;
  std::shared_ptr<const std::string> blob; // shared with the store: a delete may come meanwhile
};

// POST /v1/files (with or without ?beta=true): the one route that takes bodies past
// k_body_limit, and whose body the request log does not keep.
bool is_file_upload(const string_request &req) {
  const std::string_view target = req.target();
  return req.method() == http::verb::post && target.substr(0, target.find('?')) == "/v1/files";
}

// "/v1/files/abc/content" -> {"v1", "files", "abc", "content"}; empty segments are kept, so
// "/v1/files//content" matches nothing.
std::vector<std::string_view> path_segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/'))
    path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos)
      return out;
    path.remove_prefix(slash + 1);
  }
}

scenario_params result_shape(const options &opts) {
  scenario_params p;
  p.text_chunks = opts.text_chunks;
  p.chunk_size = opts.chunk_size;
  return p;
}

struct model_info {
  std::string_view id, display_name, created_at;
};
constexpr model_info k_models[] = {
    {"claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z"},
    {"claude-opus-4-7", "Claude Opus 4.7", "2026-04-16T00:00:00Z"},
    {"claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"},
};

template <class Writer> void write_model(Writer &w, const model_info &m) {
  w.StartObject();
  w.Key("type");
  w.String("model");
  w.Key("id");
  w.String(m.id.data(), static_cast<rapidjson::SizeType>(m.id.size()));
  w.Key("display_name");
  w.String(m.display_name.data(), static_cast<rapidjson::SizeType>(m.display_name.size()));
  w.Key("created_at");
  w.String(m.created_at.data(), static_cast<rapidjson::SizeType>(m.created_at.size()));
  w.EndObject();
}

// The API surface: turns one request into a reply. Runs on the server thread.
class api {
public:
  api(const options &opts, token_registry &tokens)
      : opts_(opts), tokens_(tokens), batches_(result_shape(opts)) {}

  // The server's own URL, for results_url when a request has no Host header.
  void set_base_url(std::string url) { base_url_ = std::move(url); }

  // Not const: a file upload's body is moved into the file store.
  reply handle(string_request &req, std::uint64_t connection_id) {
    const ctx c{req, "req_sim_" + std::to_string(++request_counter_), connection_id};

    auto f = parse_fault(req["x-sim-fault"]);
    if (f && f->what == fault::kind::none && !opts_.random_faults.empty() &&
        req.target().starts_with("/v1/messages") && !req.target().starts_with("/v1/messages/"))
      f = draw_fault();
    if (!f)
      return answer(error(c, 400, "invalid_request_error",
                          "x-sim-fault: expected status=<code>[;retry-after=<s>], "
                          "reset-before-headers, reset-mid-stream, stall, stall-mid-stream "
                          "or extra-usage"));
    switch (f->what) {
    case fault::kind::status:
      return answer(status_fault(c, *f));
    case fault::kind::reset_before_headers:
      return bare(reply::mode::reset);
    case fault::kind::stall:
      return bare(reply::mode::stall);
    case fault::kind::extra_usage:
      return answer(error(c, 400, "invalid_request_error", k_extra_usage_message));
    default:
      break;
    }

    const std::string_view target = req.target();
    const auto qmark = target.find('?');
    const std::string_view path = target.substr(0, qmark);
    const std::string_view query =
        qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
    const http::verb method = req.method();

    if (path == "/v1/oauth/token")
      return method == http::verb::post ? answer(token_grant(c))
                                        : answer(method_not_allowed(c, "POST"));
    // A stand-in for the edge's credential store: tests read what arrived from requests().
    if (path == "/_sim/credentials")
      return method == http::verb::post ? answer(json(c, 200, R"({"stored":true})"))
                                        : answer(method_not_allowed(c, "POST"));

    if (auto r = resource_route(c, req, path, query))
      return std::move(*r);

    enum class route { messages, count_tokens, chat, models, model } r;
    std::string_view model_id;
    if (path == "/v1/messages") {
      r = route::messages;
    } else if (path == "/v1/chat/completions") {
      r = route::chat;
    } else if (path == "/v1/messages/count_tokens") {
      r = route::count_tokens;
    } else if (path == "/v1/models" || path == "/v1/models/") {
      r = route::models;
    } else if (path.starts_with("/v1/models/") &&
               path.find('/', std::string_view("/v1/models/").size()) == std::string_view::npos) {
      r = route::model;
      model_id = path.substr(std::string_view("/v1/models/").size());
    } else {
      return answer(error(c, 404, "not_found_error", "Not found"));
    }

    const bool wants_post = r == route::messages || r == route::count_tokens || r == route::chat;
    if (method != (wants_post ? http::verb::post : http::verb::get))
      return answer(method_not_allowed(c, wants_post ? "POST" : "GET"));
    if (auto denied = authenticate(c))
      return answer(std::move(*denied));

    switch (r) {
    case route::messages:
      return messages(c, *f);
    case route::count_tokens:
      return count_tokens(c);
    case route::chat:
      return chat(c, *f);
    case route::models:
      return answer(list_models(c, query));
    case route::model:
      return answer(get_model(c, model_id));
    }
    return answer(error(c, 404, "not_found_error", "Not found"));
  }

  // Used by the connection when a request cannot even be parsed.
  string_response protocol_error(unsigned version, int status, std::string_view message,
                                 std::uint64_t connection_id) {
    string_request dummy{http::verb::get, "/", version};
    const ctx c{dummy, "req_sim_" + std::to_string(++request_counter_), connection_id};
    auto res = error(c, status, error_type_for_status(status), message);
    res.keep_alive(false);
    return res;
  }

private:
  struct ctx {
    const string_request &req;
    std::string request_id;
    std::uint64_t connection_id;
  };

  static reply answer(string_response res) {
    reply r;
    r.res = std::move(res);
    return r;
  }

  // A reply that is only a behaviour (reset, stall): no response to send.
  static reply bare(reply::mode how) {
    reply r;
    r.how = how;
    return r;
  }

  string_response response(const ctx &c, int status, std::string_view content_type,
                           std::string body) {
    string_response res;
    res.version(c.req.version() == 10 ? 10 : 11);
    res.result(static_cast<unsigned>(status));
    if (status == 529)
      res.reason("Overloaded");
    res.set(http::field::server, "upstream-sim");
    res.set(http::field::content_type, content_type);
    res.set("request-id", c.request_id);
    res.set("x-sim-connection-id", std::to_string(c.connection_id));
    res.keep_alive(c.req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  string_response json(const ctx &c, int status, std::string body) {
    return response(c, status, "application/json", std::move(body));
  }

  string_response error(const ctx &c, int status, std::string_view type, std::string_view message) {
    return json(c, status, error_json(type, message, c.request_id));
  }

  string_response method_not_allowed(const ctx &c, std::string_view allowed) {
    auto res = error(c, 405, "invalid_request_error",
                     std::string("Method ") + std::string(c.req.method_string()) +
                         " not allowed; use " + std::string(allowed) + ".");
    res.set(http::field::allow, allowed);
    return res;
  }

  string_response status_fault(const ctx &c, const fault &f) {
    auto res = error(c, f.status, error_type_for_status(f.status), default_error_message(f.status));
    if (f.retry_after_s)
      res.set(http::field::retry_after, std::to_string(*f.retry_after_s));
    if (f.status == 429)
      res.set("anthropic-ratelimit-requests-remaining", "0");
    return res;
  }

  static bool has_oauth_beta(const string_request &req) {
    const auto [first, last] = req.equal_range("anthropic-beta");
    for (auto it = first; it != last; ++it) {
      bool found = false;
      proxy::for_each_token(
          it->value(), [&](std::string_view token) { found = found || token == k_oauth_beta; });
      if (found)
        return true;
    }
    return false;
  }

  std::optional<string_response> authenticate(const ctx &c) {
    const std::string_view key = c.req["x-api-key"];
    if (!key.empty()) {
      if (opts_.api_key.empty() || key == opts_.api_key)
        return std::nullopt;
      return error(c, 401, "authentication_error", "invalid x-api-key");
    }
    const std::string_view authorization = trim(c.req[http::field::authorization]);
    if (authorization.empty())
      return error(c, 401, "authentication_error", "x-api-key header is required");
    if (authorization.size() < 7 || !iequals(authorization.substr(0, 7), "Bearer "))
      return error(c, 401, "authentication_error", "Invalid authorization header");
    // Current SDKs send API keys as Bearer too, and the upstream accepts them that way.
    if (!opts_.api_key.empty() && trim(authorization.substr(7)) == opts_.api_key)
      return std::nullopt;
    if (!has_oauth_beta(c.req))
      return error(c, 401, "authentication_error",
                   "OAuth authentication is currently not supported.");
    switch (tokens_.check(std::string(trim(authorization.substr(7))))) {
    case token_registry::check_result::ok:
      return std::nullopt;
    case token_registry::check_result::expired:
      return error(c, 401, "authentication_error",
                   "OAuth token has expired. Please obtain a new token or refresh your "
                   "existing token.");
    case token_registry::check_result::unknown:
      break;
    }
    return error(c, 401, "authentication_error", "Invalid bearer token");
  }

  // ---- Message Batches, Files, Skills: the stateful resources ----

  using segments = std::span<const std::string_view>;

  // Routes the stateful resources and the simulator's file digests; nullopt for any other
  // path. `req` is the same request as c.req, writable for uploads.
  std::optional<reply> resource_route(const ctx &c, string_request &req, std::string_view path,
                                      std::string_view query) {
    const auto s = path_segments(path);
    const segments all(s);
    // Test-only, like /_sim/credentials: no authentication.
    if (s.size() == 3 && s[0] == "_sim" && s[1] == "files")
      return c.req.method() == http::verb::get ? answer(from(c, files_.digest(s[2])))
                                               : answer(method_not_allowed(c, "GET"));
    if (s.size() < 2 || s[0] != "v1")
      return std::nullopt;
    if (s.size() >= 3 && s[1] == "messages" && s[2] == "batches")
      return batches_route(c, all.subspan(3), query);
    if (s[1] == "files")
      return files_route(c, req, all.subspan(2), query);
    if (s[1] == "skills")
      return skills_route(c, all.subspan(2), query);
    return std::nullopt;
  }

  // Checks the method against `allowed` ("GET, POST"), then authenticates, then runs
  // `handler`: the order the other routes follow.
  template <class Handler> reply guarded(const ctx &c, std::string_view allowed, Handler handler) {
    bool ok = false;
    proxy::for_each_token(allowed, [&](std::string_view m) {
      ok = ok || m == std::string_view(c.req.method_string());
    });
    if (!ok)
      return answer(method_not_allowed(c, allowed));
    if (auto denied = authenticate(c))
      return answer(std::move(*denied));
    return handler();
  }

  reply not_found_reply(const ctx &c) {
    return answer(error(c, 404, "not_found_error", "Not found"));
  }

  static bool has_empty(segments rest) {
    return std::any_of(rest.begin(), rest.end(), [](std::string_view x) { return x.empty(); });
  }

  // /v1/messages/batches[/{id}[/cancel | /results]]
  reply batches_route(const ctx &c, segments rest, std::string_view query) {
    const bool post = c.req.method() == http::verb::post;
    if (has_empty(rest) || rest.size() > 2)
      return not_found_reply(c);
    if (rest.empty())
      return guarded(c, "GET, POST", [&] {
        return answer(
            from(c, post ? batches_.create(c.req.body()) : batches_.list(query, self_url(c))));
      });
    const std::string_view id = rest[0];
    if (rest.size() == 1)
      return guarded(c, "GET, DELETE", [&] {
        return answer(from(c, c.req.method() == http::verb::get ? batches_.retrieve(id, self_url(c))
                                                                : batches_.remove(id)));
      });
    if (rest[1] == "cancel")
      return guarded(c, "POST", [&] { return answer(from(c, batches_.cancel(id, self_url(c)))); });
    if (rest[1] == "results")
      return guarded(c, "GET", [&] { return batch_results(c, id); });
    return not_found_reply(c);
  }

  // The real API sends results as application/x-jsonl, as an attachment; SDKs read the body
  // line by line whatever its type.
  reply batch_results(const ctx &c, std::string_view id) {
    reply r;
    const outcome o = batches_.results(id, r.pieces);
    if (!o.ok())
      return answer(from(c, o));
    r.how = reply::mode::chunked;
    r.res = response(c, 200, "application/x-jsonl", {});
    r.res.set(http::field::content_disposition,
              attachment_disposition(std::string(id) + "_results.jsonl"));
    return r;
  }

  // /v1/files[/{id}[/content]]
  reply files_route(const ctx &c, string_request &req, segments rest, std::string_view query) {
    if (has_empty(rest) || rest.size() > 2)
      return not_found_reply(c);
    if (rest.empty())
      return guarded(c, "GET, POST", [&] {
        if (c.req.method() == http::verb::get)
          return answer(from(c, files_.list(query)));
        return answer(from(c, files_.upload(req.body(), c.req[http::field::content_type])));
      });
    const std::string_view id = rest[0];
    if (rest.size() == 1)
      return guarded(c, "GET, DELETE", [&] {
        return answer(
            from(c, c.req.method() == http::verb::get ? files_.metadata(id) : files_.remove(id)));
      });
    if (rest[1] == "content")
      return guarded(c, "GET", [&] { return file_content(c, id); });
    return not_found_reply(c);
  }

  reply file_content(const ctx &c, std::string_view id) {
    const stored_file *f = files_.downloadable(id);
    if (!f)
      return answer(error(c, 404, "not_found_error", "File not found: " + std::string(id)));
    reply r;
    r.how = reply::mode::blob;
    r.res = response(c, 200, f->mime_type, {});
    r.res.set(http::field::content_disposition, attachment_disposition(f->filename));
    r.blob = f->bytes;
    return r;
  }

  // /v1/skills[/{id}]
  reply skills_route(const ctx &c, segments rest, std::string_view query) {
    if (has_empty(rest) || rest.size() > 1)
      return not_found_reply(c);
    if (rest.empty())
      return guarded(c, "GET, POST", [&] {
        if (c.req.method() == http::verb::get)
          return answer(from(c, skills_.list(query)));
        return answer(from(c, skills_.create(c.req.body(), c.req[http::field::content_type])));
      });
    const std::string_view id = rest[0];
    return guarded(c, "GET, DELETE", [&] {
      return answer(
          from(c, c.req.method() == http::verb::get ? skills_.retrieve(id) : skills_.remove(id)));
    });
  }

  // The simulator as the client reached it (scheme and Host header), for results_url.
  std::string self_url(const ctx &c) const {
    const std::string_view host = trim(c.req[http::field::host]);
    if (host.empty())
      return base_url_;
    return std::string(opts_.tls ? "https://" : "http://") + std::string(host);
  }

  // A store's outcome as a response: its JSON, or the Anthropic error with our request id.
  string_response from(const ctx &c, const outcome &o) {
    if (o.ok())
      return json(c, 200, o.body);
    return error(c, o.status, o.error_type, o.message);
  }

  reply messages(const ctx &c, const fault &f) {
    std::string problem;
    const auto m = parse_message_request(c.req.body(), true, problem);
    if (!m)
      return answer(error(c, 400, "invalid_request_error", problem));

    scenario_params p;
    p.kind = m->derived;
    if (const std::string_view forced = c.req["x-sim-scenario"]; !forced.empty()) {
      const auto parsed = parse_scenario(forced);
      if (!parsed)
        return answer(error(c, 400, "invalid_request_error",
                            "x-sim-scenario: expected text, tool_use or thinking"));
      p.kind = *parsed;
    }
    p.message_id = "msg_sim_" + std::to_string(++message_counter_);
    p.model = m->model;
    p.input_tokens = estimate_input_tokens(c.req.body());
    p.text_chunks = opts_.text_chunks;
    p.chunk_size = opts_.chunk_size;
    if (!m->first_tool_name.empty())
      p.tool_name = m->first_tool_name;

    std::chrono::milliseconds delay = opts_.event_delay;
    if (const std::string_view d = trim(c.req["x-sim-event-delay-ms"]); !d.empty()) {
      long ms = 0;
      auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), ms);
      if (ec != std::errc() || ptr != d.data() + d.size() || ms < 0)
        return answer(error(c, 400, "invalid_request_error",
                            "x-sim-event-delay-ms: expected a non-negative integer"));
      delay = std::chrono::milliseconds(ms);
    }

    return success(
        c, f, m->stream, delay, [&] { return build_events(p); },
        [&] { return build_message_json(p); });
  }

  /// A 200 answer, streamed (the events `events()` makes, `delay` apart) or not (the JSON
  /// `body()` makes), with a mid-stream fault applied and the rate-limit headers set.
  template <class Events, class Body>
  reply success(const ctx &c, const fault &f, bool stream, std::chrono::milliseconds delay,
                Events events, Body body) {
    const bool mid_stream_fault =
        f.what == fault::kind::reset_mid_stream || f.what == fault::kind::stall_mid_stream;
    reply r;
    r.after = mid_stream_fault ? f.what : fault::kind::none;
    if (stream) {
      r.how = reply::mode::sse;
      r.res = response(c, 200, "text/event-stream; charset=utf-8", {});
      r.res.set(http::field::cache_control, "no-cache");
      r.events = events();
      r.delay = delay;
    } else {
      r.how = mid_stream_fault ? reply::mode::partial_body : reply::mode::respond;
      r.res = json(c, 200, body());
    }
    set_rate_limits(c, r.res);
    return r;
  }

  /// A fault drawn from opts_.random_faults (checked valid at start), or none.
  std::optional<fault> draw_fault() {
    double x = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    for (const auto &[spec, probability] : opts_.random_faults) {
      if (x < probability)
        return parse_fault(spec);
      x -= probability;
    }
    return fault{};
  }

  /// The rate-limit headers the real API sends: the unified 5-hour and 7-day family for OAuth
  /// (subscription) tokens, the requests/tokens family for API keys.
  void set_rate_limits(const ctx &c, string_response &res) {
    using std::chrono::system_clock;
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(system_clock::now().time_since_epoch())
            .count();
    const auto used = static_cast<long>(++rate_limited_requests_ % 4000);
    if (!c.req[http::field::authorization].empty()) {
      res.set("anthropic-ratelimit-unified-status", "allowed");
      res.set("anthropic-ratelimit-unified-5h-utilization", std::to_string(used / 4000.0));
      res.set("anthropic-ratelimit-unified-5h-reset", std::to_string(now + 3600));
      res.set("anthropic-ratelimit-unified-7d-utilization", "0.5");
      res.set("anthropic-ratelimit-unified-7d-reset", std::to_string(now + 3 * 86400));
      return;
    }
    std::time_t reset = now + 60;
    std::tm tm{};
    gmtime_r(&reset, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    res.set("anthropic-ratelimit-requests-limit", "4000");
    res.set("anthropic-ratelimit-requests-remaining", std::to_string(4000 - used));
    res.set("anthropic-ratelimit-requests-reset", when);
    res.set("anthropic-ratelimit-tokens-limit", "400000");
    res.set("anthropic-ratelimit-tokens-remaining", std::to_string(400000 - used * 10));
    res.set("anthropic-ratelimit-tokens-reset", when);
  }

  /// The OpenAI-compatible Chat Completions endpoint, streamed or not: a tool call when the
  /// request offers tools (and tool_choice is not "none"), text otherwise.
  reply chat(const ctx &c, const fault &f) {
    std::string problem;
    const auto m = parse_chat_request(c.req.body(), problem);
    if (!m)
      return answer(error(c, 400, "invalid_request_error", problem));
    scenario_params p;
    p.kind = m->derived;
    p.message_id = "sim_" + std::to_string(++message_counter_);
    p.model = m->model;
    p.input_tokens = estimate_input_tokens(c.req.body());
    p.text_chunks = opts_.text_chunks;
    p.chunk_size = opts_.chunk_size;
    if (!m->tool_name.empty())
      p.tool_name = m->tool_name;
    return success(
        c, f, m->stream, opts_.event_delay, [&] { return build_chat_events(p, m->include_usage); },
        [&] { return build_chat_json(p); });
  }

  reply count_tokens(const ctx &c) {
    std::string problem;
    if (!parse_message_request(c.req.body(), false, problem))
      return answer(error(c, 400, "invalid_request_error", problem));
    const auto n = estimate_input_tokens(c.req.body());
    return answer(json(c, 200, write_json([&](auto &w) {
                         w.StartObject();
                         w.Key("input_tokens");
                         w.Int64(n);
                         w.EndObject();
                       })));
  }

  static std::optional<std::size_t> model_index(std::string_view id) {
    for (std::size_t i = 0; i < std::size(k_models); ++i)
      if (k_models[i].id == id)
        return i;
    return std::nullopt;
  }

  string_response list_models(const ctx &c, std::string_view query) {
    std::size_t limit = 20;
    if (auto l = query_param(query, "limit")) {
      auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc() || ptr != l->data() + l->size() || limit < 1 || limit > 1000)
        return error(c, 400, "invalid_request_error", "limit: Input should be between 1 and 1000");
    }
    std::size_t begin = 0, end = std::size(k_models);
    if (auto after = query_param(query, "after_id")) {
      auto i = model_index(*after);
      if (!i)
        return error(c, 400, "invalid_request_error", "after_id: unknown model id");
      begin = *i + 1;
    }
    bool backwards = false;
    if (auto before = query_param(query, "before_id")) {
      auto i = model_index(*before);
      if (!i)
        return error(c, 400, "invalid_request_error", "before_id: unknown model id");
      end = std::max(begin, *i);
      backwards = true;
    }
    // before_id pages towards the front of the list, so keep the last `limit` entries.
    bool has_more = end - begin > limit;
    if (has_more) {
      if (backwards)
        begin = end - limit;
      else
        end = begin + limit;
    }
    return json(c, 200, write_json([&](auto &w) {
                  w.StartObject();
                  w.Key("data");
                  w.StartArray();
                  for (std::size_t i = begin; i < end; ++i)
                    write_model(w, k_models[i]);
                  w.EndArray();
                  w.Key("has_more");
                  w.Bool(has_more);
                  w.Key("first_id");
                  if (begin < end)
                    w.String(k_models[begin].id.data(),
                             static_cast<rapidjson::SizeType>(k_models[begin].id.size()));
                  else
                    w.Null();
                  w.Key("last_id");
                  if (begin < end)
                    w.String(k_models[end - 1].id.data(),
                             static_cast<rapidjson::SizeType>(k_models[end - 1].id.size()));
                  else
                    w.Null();
                  w.EndObject();
                }));
  }

  string_response get_model(const ctx &c, std::string_view id) {
    const auto i = model_index(id);
    if (!i)
      return error(c, 404, "not_found_error", "model: " + std::string(id));
    return json(c, 200, write_json([&](auto &w) { write_model(w, k_models[*i]); }));
  }

  string_response oauth_error(const ctx &c, std::string_view code, std::string_view description) {
    return json(c, 400, write_json([&](auto &w) {
                  w.StartObject();
                  w.Key("error");
                  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
                  w.Key("error_description");
                  w.String(description.data(),
                           static_cast<rapidjson::SizeType>(description.size()));
                  w.EndObject();
                }));
  }

  string_response token_grant(const ctx &c) {
    rapidjson::Document doc;
    const std::string &body = c.req.body();
    doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject())
      return oauth_error(c, "invalid_request", "Request body must be a JSON object");
    auto text = [&](const char *name) -> std::string {
      auto it = doc.FindMember(name);
      if (it == doc.MemberEnd() || !it->value.IsString())
        return {};
      return std::string(it->value.GetString(), it->value.GetStringLength());
    };
    const std::string grant_type = text("grant_type");
    const std::string refresh_token = text("refresh_token");
    const std::string client_id = text("client_id");
    if (grant_type != "refresh_token")
      return oauth_error(c, "invalid_request", "grant_type must be refresh_token");
    if (refresh_token.empty() || client_id.empty())
      return oauth_error(c, "invalid_request", "refresh_token and client_id are required");

    const auto pair = tokens_.rotate(refresh_token, opts_.access_token_lifetime);
    if (!pair)
      return oauth_error(c, "invalid_grant", "Refresh token not found or invalid");
    return json(c, 200, write_json([&](auto &w) {
                  w.StartObject();
                  w.Key("access_token");
                  w.String(pair->access_token.c_str(),
                           static_cast<rapidjson::SizeType>(pair->access_token.size()));
                  w.Key("refresh_token");
                  w.String(pair->refresh_token.c_str(),
                           static_cast<rapidjson::SizeType>(pair->refresh_token.size()));
                  w.Key("expires_in");
                  w.Int64(opts_.access_token_lifetime.count());
                  w.Key("token_type");
                  w.String("Bearer");
                  w.Key("scope");
                  w.String("user:inference user:profile");
                  w.EndObject();
                }));
  }

  const options &opts_;
  token_registry &tokens_;
  std::uint64_t request_counter_ = 0;
  std::uint64_t message_counter_ = 0;
  std::uint64_t rate_limited_requests_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  batch_store batches_;
  file_store files_;
  skill_store skills_;
  std::string base_url_;
};

recorded_request record_of(const string_request &req) {
  recorded_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto &field : req)
    r.headers.emplace_back(proxy::ascii_lowered(field.name_string()), std::string(field.value()));
  // An upload is held once, by the file store: the log notes only its size.
  r.body = is_file_upload(req) ? "<" + std::to_string(req.body().size()) + " bytes>" : req.body();
  return r;
}

// One accepted connection: reads requests, records them, and carries out the replies,
// including resets and stalls. While a reply is being produced slowly, a concurrent read
// watches for the peer going away so a closed client is noticed at once.
template <class Stream> class connection : public std::enable_shared_from_this<connection<Stream>> {
public:
  static constexpr bool is_tls = !std::is_same_v<Stream, tcp::socket>;

  template <class... Args>
  connection(api &handler, request_log &log, connection_registry &registry, Args &&...args)
      : stream_(std::forward<Args>(args)...), timer_(stream_.get_executor()), api_(handler),
        log_(log), registry_(registry) {}

  void set_id(std::uint64_t id) { id_ = id; }

  // Server shutdown: end whatever the session is waiting on.
  void abort() {
    closing_ = true;
    timer_.cancel();
    close();
  }

  static asio::awaitable<void> run(std::shared_ptr<connection> self) {
    // Counts the session as closed however it ends, including frame destruction at shutdown.
    struct on_exit {
      connection *c;
      ~on_exit() {
        c->close();
        c->registry_.remove(c->id_);
      }
    } guard{self.get()};

    if constexpr (is_tls) {
      auto [ec] = co_await self->stream_.async_handshake(ssl::stream_base::server, use_tuple);
      if (ec)
        co_return;
    }
    while (!self->closing_ && !self->peer_gone_) {
      if (!co_await self->serve_one())
        break;
    }
  }

private:
  auto &socket() { return stream_.lowest_layer(); }

  void close() {
    boost::system::error_code ec;
    socket().close(ec);
  }

  // SO_LINGER 0 makes close() send RST, which the peer sees as a reset.
  void reset() {
    boost::system::error_code ec;
    socket().set_option(asio::socket_base::linger(true, 0), ec);
    socket().close(ec);
  }

  static bool is_parse_error(const boost::system::error_code &ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
  }

  asio::awaitable<bool> serve_one() {
    http::request_parser<http::string_body> parser;
    parser.header_limit(k_header_limit);
    // The upload limit while the target is unknown: Beast checks a Content-Length against the
    // limit as soon as the header is parsed. Other routes get k_body_limit back right after.
    parser.body_limit(k_upload_body_limit);

    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
    if (!ec && !is_file_upload(parser.get())) {
      parser.body_limit(k_body_limit);
      if (parser.content_length().value_or(0) > k_body_limit)
        ec = http::error::body_limit;
    }
    if (!ec && iequals(parser.get()[http::field::expect], "100-continue")) {
      static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [wec, wn] = co_await asio::async_write(
          stream_, asio::buffer(continue_line.data(), continue_line.size()), use_tuple);
      if (wec)
        co_return false;
    }
    if (!ec && !parser.is_done())
      std::tie(ec, n) = co_await http::async_read(stream_, buffer_, parser, use_tuple);
    if (ec == http::error::body_limit) {
      if (log_.enabled())
        log_.add(record_of(parser.get()));
      co_await send_protocol_error(parser.get().version(), 413,
                                   "Request exceeds the maximum allowed number of bytes.");
      co_return false;
    }
    if (ec) {
      if (is_parse_error(ec))
        co_await send_protocol_error(11, 400, "Malformed HTTP request: " + ec.message());
      co_return false;
    }

    string_request req = parser.release();
    if (log_.enabled())
      entry_ = log_.add(record_of(req));
    reply r = api_.handle(req, id_);

    switch (r.how) {
    case reply::mode::respond: {
      log_.append_response(entry_, r.res.body());
      auto [wec, wn] = co_await http::async_write(stream_, r.res, use_tuple);
      co_return !wec && r.res.keep_alive();
    }
    case reply::mode::reset:
      reset();
      co_return false;
    default:
      break;
    }
    keep_alive_ = false;
    // Bytes already buffered are a pipelined request: nothing more to watch for then.
    if (buffer_.size() > 0)
      co_await produce(r);
    else
      co_await (produce(r) && watch_peer());
    co_return keep_alive_ && !peer_gone_;
  }

  asio::awaitable<void> send_protocol_error(unsigned version, int status, std::string message) {
    auto res = api_.protocol_error(version, status, message, id_);
    co_await http::async_write(stream_, res, use_tuple);
  }

  // Completes when the peer sends more bytes (kept for the next request) or goes away.
  asio::awaitable<void> watch_peer() {
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(16 * 1024), use_tuple);
    if (!ec) {
      buffer_.commit(n);
      co_return;
    }
    peer_gone_ = true;
    timer_.cancel();
  }

  // Waits, but wakes early when the peer goes away or the server stops.
  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    if (d.count() <= 0 || peer_gone_ || closing_)
      co_return;
    timer_.expires_after(d);
    co_await timer_.async_wait(use_tuple);
  }

  bool gone() const { return peer_gone_ || closing_; }

  // Waits for the peer to close (bounded), then closes; closing also ends watch_peer().
  asio::awaitable<void> stall() {
    co_await pause(k_stall_limit);
    close();
  }

  asio::awaitable<void> produce(const reply &r) {
    switch (r.how) {
    case reply::mode::stall:
      co_await stall();
      break;
    case reply::mode::partial_body:
      co_await partial_body(r);
      break;
    case reply::mode::sse:
      co_await stream_events(r);
      break;
    case reply::mode::chunked:
      co_await send_chunked(r);
      break;
    case reply::mode::blob:
      co_await send_blob(r);
      break;
    default:
      close();
      break;
    }
  }

  // Non-streamed reply cut in the middle of its body (mid-stream faults without stream:true).
  asio::awaitable<void> partial_body(const reply &r) {
    std::ostringstream os;
    os << r.res;
    const std::string wire = os.str();
    const std::size_t cut = wire.size() - r.res.body().size() / 2;
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(wire.data(), cut), use_tuple);
    if (ec || r.after == fault::kind::reset_mid_stream) {
      reset();
      co_return;
    }
    co_await stall();
  }

  // Writes the header of `res`, with a Content-Length of `length` or, without one, chunked.
  // False (and the connection closed) when the write fails.
  asio::awaitable<bool> write_head(const string_response &res,
                                   std::optional<std::uint64_t> length) {
    http::response<http::empty_body> head;
    head.base() = res.base();
    if (length) {
      head.content_length(*length);
    } else {
      head.erase(http::field::content_length);
      head.chunked(true);
    }
    http::response_serializer<http::empty_body> serializer(head);
    auto [ec, n] = co_await http::async_write_header(stream_, serializer, use_tuple);
    if (ec)
      close();
    co_return !ec;
  }

  // After a streamed body: keep the connection if the request allowed it and all went well.
  void end_body(bool ok, bool keep_alive) {
    keep_alive_ = ok && keep_alive && !gone();
    if (!keep_alive_)
      close(); // also ends watch_peer()
  }

  // Batch results: one HTTP chunk per piece (JSONL lines).
  asio::awaitable<void> send_chunked(const reply &r) {
    if (!co_await write_head(r.res, std::nullopt))
      co_return;
    for (const auto &piece : r.pieces) {
      if (gone()) {
        close();
        co_return;
      }
      auto [ec, n] = co_await asio::async_write(
          stream_, http::make_chunk(asio::buffer(piece.data(), piece.size())), use_tuple);
      if (ec) {
        peer_gone_ = true;
        close();
        co_return;
      }
      log_.append_response(entry_, piece);
    }
    auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), use_tuple);
    end_body(!ec, r.res.keep_alive());
  }

  // A file download: the stored bytes under a Content-Length, in slices, straight from the
  // store's buffer (the log notes only the size, as for uploads).
  asio::awaitable<void> send_blob(const reply &r) {
    const std::string &bytes = *r.blob;
    if (!co_await write_head(r.res, bytes.size()))
      co_return;
    log_.append_response(entry_, "<" + std::to_string(bytes.size()) + " bytes>");
    for (std::size_t offset = 0; offset < bytes.size(); offset += k_blob_slice) {
      if (gone()) {
        close();
        co_return;
      }
      const std::size_t n = std::min(k_blob_slice, bytes.size() - offset);
      auto [ec, written] =
          co_await asio::async_write(stream_, asio::buffer(bytes.data() + offset, n), use_tuple);
      if (ec) {
        peer_gone_ = true;
        close();
        co_return;
      }
    }
    end_body(true, r.res.keep_alive());
  }

  asio::awaitable<void> stream_events(const reply &r) {
    http::response<http::empty_body> head;
    head.base() = r.res.base();
    head.erase(http::field::content_length);
    head.chunked(true);
    http::response_serializer<http::empty_body> serializer(head);
    auto [ec, n] = co_await http::async_write_header(stream_, serializer, use_tuple);
    if (ec) {
      close();
      co_return;
    }

    std::size_t count = r.events.size();
    if (r.after == fault::kind::reset_mid_stream)
      count = std::min<std::size_t>(count, 4);
    else if (r.after == fault::kind::stall_mid_stream)
      count = std::min<std::size_t>(count, 3);

    for (std::size_t i = 0; i < count; ++i) {
      if (i > 0)
        co_await pause(r.delay);
      if (gone()) {
        close();
        co_return;
      }
      const std::string wire = r.events[i].wire();
      auto [wec, wn] = co_await asio::async_write(
          stream_, http::make_chunk(asio::buffer(wire.data(), wire.size())), use_tuple);
      if (wec) {
        peer_gone_ = true;
        close();
        co_return;
      }
      log_.append_response(entry_, wire);
    }

    if (r.after == fault::kind::reset_mid_stream) {
      reset();
      co_return;
    }
    if (r.after == fault::kind::stall_mid_stream) {
      co_await stall();
      co_return;
    }
    auto [lec, ln] = co_await asio::async_write(stream_, http::make_chunk_last(), use_tuple);
    keep_alive_ = !lec && head.keep_alive() && !gone();
    if (!keep_alive_)
      close(); // also ends watch_peer()
  }

  std::size_t entry_ = 0; // the request log entry being answered
  Stream stream_;
  beast::flat_buffer buffer_;
  asio::steady_timer timer_;
  api &api_;
  request_log &log_;
  connection_registry &registry_;
  std::uint64_t id_ = 0;
  bool peer_gone_ = false;
  bool closing_ = false;
  bool keep_alive_ = false;
};

} // namespace

struct server::impl {
  explicit impl(options o) : opts(std::move(o)), log(opts.record), handler(opts, tokens) {}

  options opts;
  token_registry tokens;
  request_log log;
  connection_registry registry;
  api handler;
  std::optional<ssl::context> tls_context;
  // Declared after the state above: handlers destroyed with the io_context still use it.
  std::unique_ptr<asio::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  std::future<void> stopped;
  std::uint16_t bound_port = 0;
  bool running = false;

  template <class Stream, class... Args> void launch(Args &&...args) {
    auto conn =
        std::make_shared<connection<Stream>>(handler, log, registry, std::forward<Args>(args)...);
    std::weak_ptr<connection<Stream>> weak = conn;
    conn->set_id(registry.add([weak] {
      if (auto c = weak.lock())
        c->abort();
    }));
    asio::co_spawn(*ioc, connection<Stream>::run(std::move(conn)), asio::detached);
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer backoff(*ioc);
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open())
          co_return;
        // e.g. out of file descriptors: do not spin.
        backoff.expires_after(std::chrono::milliseconds(20));
        co_await backoff.async_wait(use_tuple);
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_context)
        launch<ssl::stream<tcp::socket>>(std::move(socket), *tls_context);
      else
        launch<tcp::socket>(std::move(socket));
    }
  }
};

server::server(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}

server::~server() {
  stop();
}

void server::start() {
  auto &s = *impl_;
  if (s.running)
    return;
  if (s.opts.tls) {
    s.tls_context.emplace(ssl::context::tls_server);
    s.tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1);
    s.tls_context->use_certificate_chain_file(s.opts.tls->cert_chain_file);
    s.tls_context->use_private_key_file(s.opts.tls->private_key_file, ssl::context::pem);
  }
  s.ioc = std::make_unique<asio::io_context>(1);
  // "localhost" is a name, not an address: bind loopback, keep the name for base_url (TLS).
  const std::string bind_host = s.opts.host == "localhost" ? "127.0.0.1" : s.opts.host;
  const tcp::endpoint endpoint(asio::ip::make_address(bind_host), s.opts.port);
  s.acceptor.emplace(*s.ioc);
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(asio::socket_base::reuse_address(true));
  s.acceptor->bind(endpoint);
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  s.bound_port = s.acceptor->local_endpoint().port();
  s.handler.set_base_url(base_url());

  asio::co_spawn(*s.ioc, s.accept_loop(), asio::detached);
  std::promise<void> done;
  s.stopped = done.get_future();
  s.thread = std::thread([ioc = s.ioc.get(), done = std::move(done)]() mutable {
    ioc->run();
    done.set_value();
  });
  s.running = true;
}

void server::stop() {
  auto &s = *impl_;
  if (!s.running)
    return;
  s.running = false;
  asio::post(*s.ioc, [&s] {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
    s.registry.close_all();
  });
  // Sessions end promptly once their sockets close; anything still pending after that is
  // destroyed with the io_context below.
  if (s.stopped.wait_for(std::chrono::seconds(3)) != std::future_status::ready)
    s.ioc->stop();
  s.thread.join();
  s.acceptor.reset();
  s.ioc.reset();
}

std::uint16_t server::port() const {
  return impl_->bound_port;
}

std::string server::base_url() const {
  const auto &s = *impl_;
  std::string host = s.opts.host;
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]"; // IPv6 literal
  return std::string(s.opts.tls ? "https://" : "http://") + host + ":" +
         std::to_string(s.bound_port);
}

server::token_pair server::issue_tokens(std::chrono::seconds access_lifetime) {
  return impl_->tokens.issue(access_lifetime);
}

void server::expire_access_tokens() {
  impl_->tokens.expire_all();
}

std::vector<recorded_request> server::requests() const {
  return impl_->log.snapshot();
}

void server::clear_requests() {
  impl_->log.clear();
}

int server::refresh_count() const {
  return impl_->tokens.refresh_count();
}

int server::connections_accepted() const {
  return impl_->registry.accepted();
}

int server::connections_closed() const {
  return impl_->registry.closed();
}

} // namespace sim
