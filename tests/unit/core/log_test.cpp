#include "core/log.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace proxy;

namespace {

/// Points stdout (the descriptor the log writes to) at a temporary file for the test's lifetime.
struct captured_stdout {
  captured_stdout() {
    std::fflush(stdout);
    char name[] = "/tmp/log_test_XXXXXX";
    fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::unlink(name);
    saved = ::dup(STDOUT_FILENO);
    ::dup2(fd, STDOUT_FILENO);
  }
  ~captured_stdout() {
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    ::close(fd);
  }
  /// The lines written so far.
  std::vector<std::string> lines() const {
    std::string all;
    char chunk[4096];
    for (off_t at = 0;;) {
      auto n = ::pread(fd, chunk, sizeof chunk, at);
      if (n <= 0)
        break;
      all.append(chunk, static_cast<std::size_t>(n));
      at += n;
    }
    std::vector<std::string> out;
    for (std::size_t start = 0, end; (end = all.find('\n', start)) != std::string::npos;
         start = end + 1)
      out.push_back(all.substr(start, end - start));
    return out;
  }
  int fd = -1, saved = -1;
};

std::string member(const std::string &line, const char *name) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.HasMember(name));
  return d[name].IsString() ? d[name].GetString() : std::to_string(d[name].GetInt64());
}

void log_id(const char *id) {
  request_record r;
  r.id = id;
  r.method = "POST";
  r.path = "/v1/messages";
  r.status = 200;
  log_request(r);
}

/// Batching for the test's duration, counting the flushes asked for.
struct batching {
  explicit batching(int &scheduled) {
    log_batch_on_this_thread([&scheduled] { ++scheduled; });
  }
  ~batching() {
    log_flush();
    log_batch_on_this_thread(nullptr);
  }
};

} // namespace

TEST_CASE("without batching every line is written at once, as one JSON object") {
  captured_stdout out;
  log_id("req_a");
  auto lines = out.lines();
  REQUIRE(lines.size() == 1);
  CHECK(member(lines[0], "event") == "request");
  CHECK(member(lines[0], "id") == "req_a");
  CHECK(member(lines[0], "status") == "200");
  CHECK(member(lines[0], "ts").size() == 24);
}

TEST_CASE("batched request lines wait for log_flush, which writes them in order") {
  captured_stdout out;
  int scheduled = 0;
  {
    batching on(scheduled);
    log_id("req_1");
    log_id("req_2");
    CHECK(out.lines().empty());
    CHECK(scheduled == 1); // one flush per batch, asked for by its first line
    log_flush();
    auto lines = out.lines();
    REQUIRE(lines.size() == 2);
    CHECK(member(lines[0], "id") == "req_1");
    CHECK(member(lines[1], "id") == "req_2");
    log_id("req_3");
    CHECK(scheduled == 2); // a new batch
  }
  REQUIRE(out.lines().size() == 3);
}

TEST_CASE("another event is written at once, after the request lines before it") {
  captured_stdout out;
  int scheduled = 0;
  batching on(scheduled);
  log_id("req_before");
  log_event("credential_refreshed");
  auto lines = out.lines();
  REQUIRE(lines.size() == 2);
  CHECK(member(lines[0], "id") == "req_before");
  CHECK(member(lines[1], "event") == "credential_refreshed");
}

TEST_CASE("a large batch is written without waiting for the flush") {
  captured_stdout out;
  int scheduled = 0;
  batching on(scheduled);
  std::string long_error(1000, 'x');
  std::size_t logged = 0;
  while (out.lines().empty() && logged < 1000) {
    request_record r;
    r.id = "req_long";
    r.error = long_error;
    log_request(r);
    ++logged;
  }
  CHECK(logged > 1);   // it did batch
  CHECK(logged <= 70); // ... at most about 64 KiB
  CHECK(out.lines().size() == logged);
}
