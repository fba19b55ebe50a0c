#include "metrics/metrics.hpp"
#include "metrics/rate_limits.hpp"

#include <catch2/catch.hpp>

using namespace proxy;

namespace {
using views = std::vector<std::pair<std::string_view, std::string_view>>;

bool has_line(const std::string &text, const std::string &line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}
} // namespace

TEST_CASE("rate-limit values as numbers: plain numbers and RFC 3339 times") {
  double n = 0;
  CHECK(rate_limit_number("4000", n));
  CHECK(n == 4000);
  CHECK(rate_limit_number("0.25", n));
  CHECK(n == 0.25);
  CHECK(rate_limit_number("2026-11-24T17:00:00Z", n));
  CHECK(n == 1795539600);
  CHECK(rate_limit_number("2026-11-24T17:00:00.123Z", n));
  CHECK(n == 1795539600);
  CHECK_FALSE(rate_limit_number("allowed", n));
  CHECK_FALSE(rate_limit_number("2026-11-24T17:00:00+05:00", n)); // not UTC: not guessed
  CHECK_FALSE(rate_limit_number("", n));
}

TEST_CASE("the rate-limit board keeps the latest value of each header") {
  rate_limit_board b;
  CHECK(b.snapshot().empty());
  CHECK(b.updated_ms() == 0);
  b.update(views{{"anthropic-ratelimit-requests-remaining", "10"},
                 {"anthropic-ratelimit-requests-limit", "50"}},
           1000);
  b.update(views{{"Anthropic-RateLimit-Requests-Remaining", "9"}}, 2000); // names in any case
  b.update({}, 3000); // an answer without them changes nothing
  auto s = b.snapshot();
  REQUIRE(s.size() == 2);
  CHECK(s[0] == std::pair<std::string, std::string>{"anthropic-ratelimit-requests-limit", "50"});
  CHECK(s[1] == std::pair<std::string, std::string>{"anthropic-ratelimit-requests-remaining", "9"});
  CHECK(b.updated_ms() == 2000);
}

TEST_CASE("metrics: requests, latencies, tokens, retries, refusals and scraped facts") {
  proxy_metrics m(2);
  request_sample ok;
  ok.route = "messages";
  ok.method = "POST";
  ok.status = 200;
  ok.stream = true;
  ok.duration_s = 0.2;
  ok.ttfb_s = 0.05;
  ok.model = "claude-sonnet-4-6";
  ok.input_tokens = 10;
  ok.output_tokens = 20;
  ok.cache_read_tokens = 3;
  ok.cache_creation_tokens = 4;
  ok.retry_reasons = "status_529,reset";
  m.record(0, ok);
  m.record(1, ok); // the other thread's cache: same series
  request_sample refused;
  refused.route = "messages";
  refused.method = "POST";
  refused.status = 529;
  refused.refused = "overload";
  m.record(0, refused);
  m.upstream_error("http_529");
  m.stream_open(1);

  scrape_facts f;
  f.oauth = true;
  f.credential_expires_in_s = 1234;
  f.refreshes_ok = 3;
  f.refreshes_failed = 1;
  f.pool_open = 5;
  f.pool_idle = 2;
  f.pool_busy = 3;
  f.rate_limits = {{"anthropic-ratelimit-unified-5h-utilization", "0.25"},
                   {"anthropic-ratelimit-unified-status", "allowed"}};
  auto text = m.render(f);
  CHECK(has_line(
      text, "claude_proxy_requests_total{method=\"POST\",route=\"messages\",status=\"200\"} 2"));
  CHECK(has_line(
      text, "claude_proxy_requests_total{method=\"POST\",route=\"messages\",status=\"529\"} 1"));
  CHECK(has_line(text, "claude_proxy_request_duration_seconds_count{stream=\"true\"} 2"));
  CHECK(has_line(text,
                 "claude_proxy_request_duration_seconds_bucket{stream=\"true\",le=\"0.25\"} 2"));
  CHECK(
      has_line(text, "claude_proxy_request_duration_seconds_bucket{stream=\"true\",le=\"0.1\"} 0"));
  CHECK(has_line(text, "claude_proxy_time_to_first_byte_seconds_count{stream=\"true\"} 2"));
  CHECK(has_line(text, "claude_proxy_tokens_total{kind=\"input\",model=\"claude-sonnet-4-6\"} 20"));
  CHECK(has_line(
      text, "claude_proxy_tokens_total{kind=\"cache_creation\",model=\"claude-sonnet-4-6\"} 8"));
  CHECK(has_line(text, "claude_proxy_retries_total{reason=\"status_529\"} 2"));
  CHECK(has_line(text, "claude_proxy_retries_total{reason=\"reset\"} 2"));
  CHECK(has_line(text, "claude_proxy_refused_total{reason=\"overload\"} 1"));
  CHECK(has_line(text, "claude_proxy_upstream_errors_total{kind=\"http_529\"} 1"));
  CHECK(has_line(text, "claude_proxy_streams_open 1"));
  CHECK(has_line(text, "claude_proxy_credential_refreshes_total{outcome=\"ok\"} 3"));
  CHECK(has_line(text, "claude_proxy_credential_refreshes_total{outcome=\"failed\"} 1"));
  CHECK(has_line(text, "claude_proxy_credential_expiry_seconds 1234"));
  CHECK(has_line(text, "claude_proxy_upstream_connections{state=\"busy\"} 3"));
  CHECK(has_line(text, "claude_proxy_upstream_ratelimit{header=\"anthropic-ratelimit-unified-5h-"
                       "utilization\"} 0.25"));
  CHECK(has_line(text, "claude_proxy_upstream_ratelimit_info{header=\"anthropic-ratelimit-unified-"
                       "status\",value=\"allowed\"} 1"));
  CHECK(text.find("# TYPE claude_proxy_requests_total counter") != std::string::npos);
}

TEST_CASE("metrics: model names from clients become at most max_models labels") {
  proxy_metrics m(1);
  request_sample s;
  s.route = "messages";
  s.method = "POST";
  s.status = 200;
  s.output_tokens = 1;
  std::vector<std::string> models;
  for (std::size_t i = 0; i < proxy_metrics::max_models + 10; ++i)
    models.push_back("model-" + std::to_string(i));
  for (const auto &model : models) {
    s.model = model;
    m.record(0, s);
  }
  auto text = m.render({});
  CHECK(has_line(text, "claude_proxy_tokens_total{kind=\"output\",model=\"other\"} 10"));
  CHECK(text.find("model=\"model-" + std::to_string(proxy_metrics::max_models) + "\"") ==
        std::string::npos);
  CHECK(text.find("model=\"model-0\"") != std::string::npos);
}

TEST_CASE("quota state: an extra-usage refusal until a request is served again; the plan limit") {
  rate_limit_board b;
  CHECK(b.quota().state == quota_state::kind::ok);
  b.note_success();                              // nothing to remember yet
  CHECK(b.note_extra_usage_refusal(1000));       // a change of state: worth a log line
  CHECK_FALSE(b.note_extra_usage_refusal(2000)); // still the same state
  auto q = b.quota();
  CHECK(q.state == quota_state::kind::extra_usage_required);
  CHECK(q.extra_usage_refusals == 2);
  CHECK(q.last_refusal_ms == 2000);
  b.note_success();
  CHECK(b.quota().state == quota_state::kind::ok);
  // Order decides, not the clock: a success in the same millisecond as a refusal still counts.
  CHECK(b.note_extra_usage_refusal(5000));
  b.note_success();
  CHECK(b.quota().state == quota_state::kind::ok);
  CHECK(b.quota().last_refusal_ms == 5000);
  CHECK(b.quota().extra_usage_refusals == 3);
  b.update(views{{"anthropic-ratelimit-unified-status", "rejected"}}, 3000);
  CHECK(b.quota().state == quota_state::kind::plan_limit_reached);
  b.update(views{{"anthropic-ratelimit-unified-status", "allowed"}}, 4000);
  CHECK(b.quota().state == quota_state::kind::ok);
}
