// loadgen: load client for local multi-client runs against the proxy or any
// Anthropic-compatible endpoint. See loadgen.hpp for what is measured.

#include "loadgen.hpp"

#include <CLI/CLI.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

// Each client holds a socket: raise the soft descriptor limit as far as allowed.
rlim_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

bool read_file(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

bool progress_shown = false;

void print_progress(const loadgen::progress &p) {
  progress_shown = true;
  std::fprintf(stderr, "\r%6.0f s  %10llu requests  %9.1f/s  %8llu errors  %7lld open streams ",
               p.elapsed_s, static_cast<unsigned long long>(p.requests), p.rate,
               static_cast<unsigned long long>(p.errors), static_cast<long long>(p.open_streams));
  std::fflush(stderr);
}

} // namespace

int main(int argc, char **argv) {
  loadgen::options o;
  std::uint64_t requests = 0;
  double duration_s = 0;
  std::string body_file;
  bool json = false;

  CLI::App app{"loadgen: N keep-alive HTTP/1.1 clients POSTing Messages requests, closed loop "
               "or at a fixed rate; prints latencies, SSE events, streams and errors."};
  app.add_option("--url", o.url, "http://host[:port][/prefix] of the server")
      ->capture_default_str();
  app.add_option("--clients,-c", o.clients, "concurrent connections")
      ->required()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  auto *requests_opt = app.add_option("--requests,-n", requests,
                                      "requests in total (default: one per client unless "
                                      "--duration is given)")
                           ->check(CLI::PositiveNumber);
  auto *duration_opt =
      app.add_option("--duration,-d", duration_s,
                     "seconds after which no request starts; in-flight ones finish")
          ->check(CLI::PositiveNumber);
  app.add_flag("--stream", o.stream, "\"stream\":true in the default body");
  app.add_option("--body", body_file, "file with the request body (JSON)")
      ->check(CLI::ExistingFile);
  app.add_option("--key", o.key, "x-api-key to send (default: none)");
  app.add_option("--rate", o.rate, "requests/s in total, open loop (default: closed loop)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print the summary as one JSON object");
  app.add_option("--header,-H", o.headers, "extra header \"Name: value\" (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--path", o.path, "request path")->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "seconds allowed per connect and per request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "threads, each with its own event loop")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--max-connecting", o.max_connecting, "TCP connects in progress at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2; // --help is a "parse error" with exit code 0
  }

  if (*requests_opt)
    o.requests = requests;
  if (*duration_opt)
    o.duration_s = duration_s;
  if (!body_file.empty()) {
    std::string body;
    if (!read_file(body_file, body)) {
      std::cerr << "loadgen: --body: cannot read " << body_file << "\n";
      return 2;
    }
    o.body = std::move(body);
  }
  if (const auto problem = loadgen::check(o); !problem.empty()) {
    std::cerr << "loadgen: " << problem << "\n";
    return 2;
  }

  std::signal(SIGPIPE, SIG_IGN); // a peer that went away is an error value, not a signal
  const rlim_t fds = raise_fd_limit();
  if (fds != 0 && fds != RLIM_INFINITY && o.clients + 64 > fds)
    std::cerr << "loadgen: warning: " << o.clients << " clients but only " << fds
              << " file descriptors allowed; expect connect errors\n";

  const bool live = ::isatty(STDERR_FILENO) == 1;
  if (live)
    o.on_progress = print_progress;

  const loadgen::summary s = loadgen::run(o);
  if (progress_shown)
    std::fputs("\n", stderr); // end the progress line
  if (!s.error.empty()) {
    std::cerr << "loadgen: " << s.error << "\n";
    return 2;
  }
  std::cout << (json ? loadgen::to_json(s) + "\n" : loadgen::to_text(s)) << std::flush;
  return 0;
}
