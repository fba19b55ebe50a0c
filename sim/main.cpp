// upstream-sim: runs the Anthropic API simulator as a standalone process for tests and demos.

#include "sim/scenarios.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr std::string_view k_usage =
    R"(usage: upstream-sim [options]
  --host ADDR                    address to bind (default 127.0.0.1)
  --port N                       port to bind, 0 = any free port (default 0)
  --tls-cert FILE --tls-key FILE serve HTTPS with this certificate chain and key (PEM)
  --api-key KEY                  the only x-api-key accepted (default: any non-empty key)
  --event-delay-ms N             delay between SSE events (default 0)
  --text-chunks N                text_delta events per text block (default 4)
  --chunk-size N                 characters per text_delta (default 12)
  --access-token-lifetime S      lifetime of issued OAuth access tokens (default 3600)
  --random-fault FAULT:P         answer Messages requests with x-sim-fault FAULT with
                                 probability P (repeatable; e.g. reset-mid-stream:0.05,
                                 status=529:0.05)
  --issue-tokens FILE            issue a token pair at start and write it to FILE as
                                 Claude Code credentials (mode 0600)
  --exit-on-stdin-eof            exit when standard input closes (a parent process that
                                 holds the other end of a pipe ends us by ending itself)
  --help                         show this help
Serves /v1/messages (count_tokens, batches), /v1/models, /v1/files, /v1/skills,
/v1/chat/completions and /v1/oauth/token; for tests, GET /_sim/files/{id} gives an uploaded
file's sha256 and size.
Prints "upstream-sim listening on <base_url>" once bound; runs until SIGINT/SIGTERM.
)";

template <class T> bool parse_number(std::string_view text, T &out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(ch));
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

// Written like the CLI's ~/.claude/.credentials.json so the proxy can load it as-is.
bool write_credentials(const std::string &path, const sim::server::token_pair &tokens) {
  const std::string json = "{\"claudeAiOauth\":{\"accessToken\":\"" +
                           json_escape(tokens.access_token) + "\",\"refreshToken\":\"" +
                           json_escape(tokens.refresh_token) +
                           "\",\"expiresAt\":" + std::to_string(tokens.expires_at_ms) +
                           ",\"scopes\":[\"user:inference\"],\"subscriptionType\":\"max\"}}\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  bool ok = ::fchmod(fd, 0600) == 0; // the file may have existed with wider permissions
  std::size_t written = 0;
  while (ok && written < json.size()) {
    const ssize_t n = ::write(fd, json.data() + written, json.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    ok = n > 0;
    if (ok)
      written += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0 && ok;
}

} // namespace

int main(int argc, char **argv) {
  sim::options opts;
  opts.record = false; // nobody reads the records of a standalone simulator: keep memory flat
  std::string cert_file, key_file, credentials_file;
  bool exit_on_stdin_eof = false;

  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << k_usage;
      return 0;
    }
    if (arg == "--exit-on-stdin-eof") {
      exit_on_stdin_eof = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "upstream-sim: " << arg << ": unknown option or missing value\n" << k_usage;
      return 2;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (arg == "--host") {
      opts.host = std::string(value);
    } else if (arg == "--port") {
      ok = parse_number(value, opts.port);
    } else if (arg == "--tls-cert") {
      cert_file = std::string(value);
    } else if (arg == "--tls-key") {
      key_file = std::string(value);
    } else if (arg == "--api-key") {
      opts.api_key = std::string(value);
    } else if (arg == "--event-delay-ms") {
      long ms = 0;
      ok = parse_number(value, ms) && ms >= 0;
      opts.event_delay = std::chrono::milliseconds(ms);
    } else if (arg == "--text-chunks") {
      ok = parse_number(value, opts.text_chunks) && opts.text_chunks >= 1;
    } else if (arg == "--chunk-size") {
      ok = parse_number(value, opts.chunk_size) && opts.chunk_size >= 1;
    } else if (arg == "--access-token-lifetime") {
      long s = 0;
      ok = parse_number(value, s) && s >= 0;
      opts.access_token_lifetime = std::chrono::seconds(s);
    } else if (arg == "--random-fault") {
      const auto colon = value.rfind(':');
      double p = -1;
      if (colon != std::string_view::npos) {
        const std::string number(value.substr(colon + 1));
        char *end = nullptr;
        p = std::strtod(number.c_str(), &end);
        ok = end && *end == '\0' && p >= 0 && p <= 1 &&
             sim::parse_fault(value.substr(0, colon)).has_value();
      } else {
        ok = false;
      }
      if (ok)
        opts.random_faults.emplace_back(std::string(value.substr(0, colon)), p);
    } else if (arg == "--issue-tokens") {
      credentials_file = std::string(value);
    } else {
      std::cerr << "upstream-sim: unknown option " << arg << "\n" << k_usage;
      return 2;
    }
    if (!ok) {
      std::cerr << "upstream-sim: invalid value for " << arg << ": " << value << "\n";
      return 2;
    }
  }
  if (cert_file.empty() != key_file.empty()) {
    std::cerr << "upstream-sim: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!cert_file.empty())
    opts.tls = sim::tls_files{cert_file, key_file};

  // As many connections as the machine allows: benchmarks hold thousands of streams.
  if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }

  // Signals first, so a SIGTERM arriving right after the banner is not lost.
  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code &, int) {});

  const auto lifetime = opts.access_token_lifetime;
  sim::server server(std::move(opts));
  try {
    server.start();
  } catch (const std::exception &e) {
    std::cerr << "upstream-sim: cannot start: " << e.what() << "\n";
    return 1;
  }
  if (!credentials_file.empty() &&
      !write_credentials(credentials_file, server.issue_tokens(lifetime))) {
    std::cerr << "upstream-sim: cannot write " << credentials_file << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }

  if (exit_on_stdin_eof)
    std::thread([] {
      char buf[256];
      while (::read(STDIN_FILENO, buf, sizeof buf) > 0) {
      }
      ::kill(::getpid(), SIGTERM);
    }).detach();

  std::cout << "upstream-sim listening on " << server.base_url() << std::endl;
  signals_ctx.run();
  server.stop();
  return 0;
}
