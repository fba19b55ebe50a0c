#include "policy/retry_policy.hpp"

#include <catch2/catch.hpp>

using namespace proxy;
using ms = std::chrono::milliseconds;

TEST_CASE("retryable statuses") {
  for (unsigned s : {429u, 500u, 502u, 503u, 504u, 529u}) {
    CAPTURE(s);
    CHECK(retryable_status(s, ""));
    CHECK(retryable_status(s, "true"));
    CHECK_FALSE(retryable_status(s, "false"));
    CHECK_FALSE(retryable_status(s, " FALSE "));
  }
  for (unsigned s : {200u, 400u, 401u, 403u, 404u, 413u, 408u, 409u, 422u}) {
    CAPTURE(s);
    CHECK_FALSE(retryable_status(s, ""));
  }
  // The upstream may ask for a retry, except where the request itself is wrong.
  CHECK(retryable_status(408, "true"));
  CHECK(retryable_status(409, "true"));
  for (unsigned s : {200u, 400u, 401u, 403u, 404u, 413u})
    CHECK_FALSE(retryable_status(s, "true"));
}

TEST_CASE("retry wait: the upstream's retry-after-ms, then retry-after, within the cap") {
  CHECK(retry_wait("", "250", 0, ms(10'000), 0.5) == ms(250));
  CHECK(retry_wait("3", "250", 0, ms(10'000), 0.5) == ms(250)); // ms wins
  CHECK(retry_wait("3", "", 0, ms(10'000), 0.5) == ms(3000));
  CHECK(retry_wait("0.5", "", 0, ms(10'000), 0.5) == ms(500));
  CHECK(retry_wait("0", "", 0, ms(10'000), 0.5) == ms(0));
  CHECK(retry_wait("10", "", 0, ms(10'000), 0.5) == ms(10'000));
  CHECK_FALSE(retry_wait("11", "", 0, ms(10'000), 0.5)); // beyond the cap: relay it instead
  CHECK_FALSE(retry_wait("", "10001", 0, ms(10'000), 0.5));
}

TEST_CASE("retry wait: exponential backoff with jitter when the upstream gives no time") {
  CHECK(retry_wait("", "", 0, ms(10'000), 0.0) == ms(500));
  CHECK(retry_wait("", "", 1, ms(10'000), 0.0) == ms(1000));
  CHECK(retry_wait("", "", 2, ms(10'000), 0.0) == ms(2000));
  CHECK(retry_wait("", "", 5, ms(10'000), 0.0) == ms(8000)); // capped at 8 s
  CHECK(retry_wait("", "", 0, ms(10'000), 1.0) == ms(375));  // jitter takes up to a quarter
  CHECK(retry_wait("", "", 3, ms(2'000), 0.0) == ms(2000));  // and never beyond the cap
  // Garbage is no instruction: back off as usual.
  for (auto bad : {"soon", "-1", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT", " "})
    CHECK(retry_wait(bad, bad, 0, ms(10'000), 0.0) == ms(500));
}
