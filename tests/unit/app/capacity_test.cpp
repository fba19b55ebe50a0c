// How many streams the descriptor limit allows, and raising the limit.
#include "app/capacity.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

using namespace proxy;

TEST_CASE("each stream needs two descriptors, after a reserve") {
  CHECK(streams_for(1024) == (1024 - reserved_descriptors) / 2);
  CHECK(streams_for(20000) == 9968);
  CHECK(streams_for(1048576) == (1048576 - reserved_descriptors) / 2);
  CHECK(streams_for(0) == 1); // never zero: one stream at least
  CHECK(streams_for(reserved_descriptors) == 1);
}

TEST_CASE("the soft descriptor limit is raised to the hard limit") {
  rlimit original{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &original) == 0);
  REQUIRE(original.rlim_max != RLIM_INFINITY); // as on every machine this project runs on
  REQUIRE(original.rlim_max >= 512);
  rlimit lowered = original;
  lowered.rlim_cur = 256;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  auto limits = raise_fd_limit();
  CHECK(limits.soft_before == 256);
  CHECK(limits.soft == original.rlim_max);
  CHECK(limits.hard == original.rlim_max);
  rlimit now{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &now) == 0);
  CHECK(now.rlim_cur == original.rlim_max);
  setrlimit(RLIMIT_NOFILE, &original);
}
