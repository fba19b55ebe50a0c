#include "loadgen.hpp"

#include "core/text.hpp"

#include "stats.hpp"
#include "worker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace loadgen {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct http_url {
  std::string host; // without brackets
  std::uint16_t port = 80;
  std::string path; // "" or "/prefix", without a trailing slash
};

using proxy::trim;

std::string lower(std::string_view s) {
  return proxy::ascii_lowered(s);
}

// http://host[:port][/path]; sets error and returns false when it is not one.
bool parse_url(std::string_view url, http_url &out, std::string &error) {
  const std::string scheme_end = "://";
  const auto sep = url.find(scheme_end);
  if (sep == std::string_view::npos) {
    error = "--url: expected http://host[:port], got \"" + std::string(url) + "\"";
    return false;
  }
  const std::string scheme = lower(url.substr(0, sep));
  if (scheme == "https") {
    error = "--url: https is not supported: loadgen speaks plain HTTP/1.1 only (use an http:// "
            "URL, e.g. the proxy's local listener)";
    return false;
  }
  if (scheme != "http") {
    error = "--url: unsupported scheme \"" + scheme + "\", only http:// is supported";
    return false;
  }
  std::string_view rest = url.substr(sep + scheme_end.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?# \t\r\n") != std::string_view::npos) {
    error = "--url: a query, fragment or whitespace in the path is not supported";
    return false;
  }
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    error = "--url: user information is not supported";
    return false;
  }

  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') { // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "--url: unterminated IPv6 address";
      return false;
    }
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "--url: unexpected text after the IPv6 address";
        return false;
      }
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) {
    error = "--url: missing host";
    return false;
  }
  out.host = std::string(host);
  out.port = 80;
  if (!port.empty()) {
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      error = "--url: invalid port \"" + std::string(port) + "\"";
      return false;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.path = std::string(path);
  return true;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

struct header {
  std::string name, value;
};

// "Name: value" -> header; sets error when malformed.
bool parse_header(std::string_view text, header &out, std::string &error) {
  const auto colon = text.find(':');
  const std::string_view name = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (colon == std::string_view::npos || name.empty() ||
      !std::all_of(name.begin(), name.end(), is_token_char)) {
    error = "--header: expected \"Name: value\", got \"" + std::string(text) + "\"";
    return false;
  }
  const std::string_view value = trim(text.substr(colon + 1));
  if (has_line_break(value)) {
    error = "--header: line breaks are not allowed in \"" + std::string(name) + "\"";
    return false;
  }
  const std::string lowered = lower(name);
  if (lowered == "content-length" || lowered == "transfer-encoding") {
    error = "--header: " + std::string(name) + " is set by loadgen itself";
    return false;
  }
  out = {std::string(name), std::string(value)};
  return true;
}

std::string default_body(bool stream) {
  return std::string(R"({"model":"claude-sonnet-4-6","max_tokens":64,"stream":)") +
         (stream ? "true" : "false") + R"(,"messages":[{"role":"user","content":"Hello there"}]})";
}

// The request bytes, built once and written as they are for every request.
std::string build_request(const options &o, const http_url &url, const std::vector<header> &extra) {
  std::vector<header> fields;
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + url.host + "]" : url.host;
  if (url.port != 80)
    host += ":" + std::to_string(url.port);
  fields.push_back({"Host", host});
  fields.push_back({"content-type", "application/json"});
  fields.push_back({"anthropic-version", "2023-06-01"});
  if (!o.key.empty())
    fields.push_back({"x-api-key", o.key});
  // An extra header replaces a default of the same name; repeated extras are all sent.
  std::erase_if(fields, [&](const header &f) {
    return std::any_of(extra.begin(), extra.end(),
                       [&](const header &e) { return lower(e.name) == lower(f.name); });
  });
  const std::string body = o.body ? *o.body : default_body(o.stream);

  std::string out = "POST " + url.path + o.path + " HTTP/1.1\r\n";
  for (const auto &f : fields)
    out += f.name + ": " + f.value + "\r\n";
  for (const auto &h : extra)
    out += h.name + ": " + h.value + "\r\n";
  out += "content-length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

// Splits n as evenly as possible: part i of parts.
std::uint64_t part_of(std::uint64_t n, unsigned parts, unsigned i) {
  return n / parts + (i < n % parts ? 1 : 0);
}

double seconds_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

} // namespace

std::string check(const options &o) {
  std::string error;
  http_url url;
  if (!parse_url(o.url, url, error))
    return error;
  if (o.path.empty() || o.path.front() != '/' ||
      o.path.find_first_of(" \t\r\n") != std::string::npos)
    return "--path: must start with '/' and contain no whitespace";
  if (o.clients < 1)
    return "--clients: must be at least 1";
  if (o.requests && *o.requests < 1)
    return "--requests: must be at least 1";
  // Upper and lower bounds keep the clock arithmetic far from overflow.
  if (o.duration_s && !(*o.duration_s > 0 && *o.duration_s <= 1e7))
    return "--duration: must be more than 0 (and at most 10000000)";
  if (o.rate != 0 && !(o.rate >= 0.001 && o.rate <= 1e9))
    return "--rate: must be between 0.001 and 1000000000";
  if (!(o.timeout_s > 0) || o.timeout_s > 1e6)
    return "--timeout: must be more than 0 (and at most 1000000)";
  if (o.threads < 1)
    return "--threads: must be at least 1";
  if (o.max_connecting < 1)
    return "--max-connecting: must be at least 1";
  if (has_line_break(o.key))
    return "--key: line breaks are not allowed";
  for (const auto &text : o.headers) {
    header h;
    if (!parse_header(text, h, error))
      return error;
  }
  return {};
}

summary run(const options &o) {
  summary out;
  out.error = check(o);
  if (!out.error.empty())
    return out;

  http_url url;
  parse_url(o.url, url, out.error);
  std::vector<header> extra;
  for (const auto &text : o.headers) {
    header h;
    parse_header(text, h, out.error);
    extra.push_back(std::move(h));
  }

  plan p;
  {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    const auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec || results.empty()) {
      out.error = "cannot resolve " + url.host + ": " + ec.message();
      return out;
    }
    p.endpoint = results.begin()->endpoint();
  }
  p.request = build_request(o, url, extra);
  p.timeout =
      std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.timeout_s));
  p.rate = o.rate;
  p.threads = static_cast<unsigned>(std::min<std::size_t>(o.threads, o.clients));

  // Without a duration, the run is bounded by a request count (one per client by default).
  std::optional<std::uint64_t> total = o.requests;
  if (!total && !o.duration_s)
    total = o.clients;

  std::vector<share> shares(p.threads);
  for (unsigned i = 0; i < p.threads; ++i) {
    shares[i].index = i;
    shares[i].clients = part_of(o.clients, p.threads, i);
    shares[i].requests = total ? part_of(*total, p.threads, i) : UINT64_MAX;
    shares[i].max_connecting = std::max<std::size_t>(1, part_of(o.max_connecting, p.threads, i));
  }

  std::deque<live_counters> live(p.threads); // atomics: not movable, so not a vector
  std::vector<raw_stats> results(p.threads);
  std::mutex mu;
  std::condition_variable cv;
  unsigned finished = 0;

  p.start = clock::now();
  if (o.duration_s)
    p.deadline = p.start + std::chrono::duration_cast<clock::duration>(
                               std::chrono::duration<double>(*o.duration_s));
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < p.threads; ++i)
    threads.emplace_back([&, i] {
      results[i] = run_worker(p, shares[i], live[i]);
      std::lock_guard lock(mu);
      ++finished;
      cv.notify_one();
    });

  // Progress once a second until every thread is done.
  std::uint64_t last_requests = 0;
  auto last_time = p.start;
  for (;;) {
    std::unique_lock lock(mu);
    if (cv.wait_for(lock, std::chrono::seconds(1), [&] { return finished == p.threads; }))
      break;
    lock.unlock();
    if (!o.on_progress)
      continue;
    progress now;
    for (const auto &l : live) {
      now.requests += l.requests.load(std::memory_order_relaxed);
      now.errors += l.errors.load(std::memory_order_relaxed);
      now.open_streams += l.open_streams.load(std::memory_order_relaxed);
    }
    const auto t = clock::now();
    now.elapsed_s = seconds_between(p.start, t);
    const double interval = seconds_between(last_time, t);
    now.rate = interval > 0 ? static_cast<double>(now.requests - last_requests) / interval : 0;
    last_requests = now.requests;
    last_time = t;
    o.on_progress(now);
  }
  for (auto &t : threads)
    t.join();
  const auto end = clock::now();

  raw_stats all;
  for (auto &r : results)
    all.merge(std::move(r));
  return summarize(all, seconds_between(p.start, end));
}

} // namespace loadgen
