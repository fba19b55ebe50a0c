// Reading and durably writing the credentials file.
#include "io/credential_file.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

using namespace proxy;

TEST_CASE("durable write: content, mode 0600, no temp file left") {
  char dir[] = "/tmp/cred-test-XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string path = std::string(dir) + "/.credentials.json";
  REQUIRE(write_file_durably(path, "first"));
  REQUIRE(write_file_durably(path, "second"));
  CHECK(read_text_file(path).value() == "second");
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(access((path + ".tmp." + std::to_string(getpid())).c_str(), F_OK) != 0);
  CHECK_FALSE(write_file_durably(std::string(dir) + "/missing/dir/file", "x"));
  CHECK_FALSE(read_text_file(std::string(dir) + "/nope"));
  unlink(path.c_str());
  rmdir(dir);
}

TEST_CASE("the credentials lock excludes a second holder until released") {
  char dir[] = "/tmp/cred-lock-XXXXXX";
  REQUIRE(mkdtemp(dir));
  auto path = lock_path_for(std::string(dir) + "/.credentials.json");
  {
    auto first = file_lock::acquire(path, std::chrono::milliseconds(100));
    REQUIRE(first);
    // flock is per open file: a second open, even in this process, must wait.
    auto second = file_lock::acquire(path, std::chrono::milliseconds(100));
    REQUIRE_FALSE(second);
    CHECK(second.error().find("held the lock") != std::string::npos);
  }
  auto again = file_lock::acquire(path, std::chrono::milliseconds(100));
  CHECK(again);
  std::remove(path.c_str());
  ::rmdir(dir);
}
