#include "core/text.hpp"

#include <catch2/catch.hpp>

using namespace proxy;

TEST_CASE("ASCII helpers") {
  CHECK(iequals("Content-Type", "content-type"));
  CHECK_FALSE(iequals("a", "ab"));
  CHECK(ascii_lowered("X-Api-KEY") == "x-api-key");
  CHECK(trim(" \t a b \t") == "a b");
  std::vector<std::string> tokens;
  for_each_token(" a, ,b ,, c", [&](std::string_view t) { tokens.emplace_back(t); });
  CHECK(tokens == std::vector<std::string>{"a", "b", "c"});
  CHECK(hex_digit('F') == 15);
  CHECK(hex_digit('g') == -1);
}

TEST_CASE("utf8_prefix keeps valid text, replaces invalid bytes and never splits a character") {
  CHECK(utf8_prefix("plain", 200) == "plain");
  CHECK(utf8_prefix("caf\xc3\xa9", 200) == "caf\xc3\xa9");
  CHECK(utf8_prefix("caf\xc3\xa9", 4) == "caf"); // the two-byte é does not fit: not split
  CHECK(utf8_prefix("a\xff"
                    "b",
                    200) == "a\xef\xbf\xbd"
                            "b");
  CHECK(utf8_prefix("\xc0\xaf", 200) == "\xef\xbf\xbd\xef\xbf\xbd");                 // overlong '/'
  CHECK(utf8_prefix("\xed\xa0\x80", 200) == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); // surrogate
  CHECK(utf8_prefix("\xf4\x90\x80\x80", 200).find("\xf4") == std::string::npos);     // > U+10FFFF
  CHECK(utf8_prefix("\xe2\x82", 200) == "\xef\xbf\xbd\xef\xbf\xbd"); // truncated sequence
  CHECK(utf8_prefix("\xf0\x9f\x98\x80", 200) == "\xf0\x9f\x98\x80");
  std::string long_text(300, 'x');
  CHECK(utf8_prefix(long_text, 200).size() == 200);
}
