#pragma once
// JSON helpers shared by the simulator's tests: parse or fail the test, read a string or fail.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <string>

namespace sim_test {

inline rapidjson::Document parse(const std::string &text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  INFO(text);
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

inline std::string str(const rapidjson::Value &v) {
  REQUIRE(v.IsString());
  return std::string(v.GetString(), v.GetStringLength());
}

} // namespace sim_test
