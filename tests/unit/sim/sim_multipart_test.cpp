// Tests of the simulator's pure helpers for uploads and stateful resources: the multipart
// parser real clients' uploads go through, and the formats of ids, times and digests.

#include "sim/multipart.hpp"
#include "sim/resources.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

// Parses or fails the test with the parser's complaint.
std::vector<sim::form_part> parse_ok(const std::string &body, const std::string &boundary) {
  std::string error;
  auto parts = sim::parse_multipart(body, boundary, error);
  INFO(error);
  REQUIRE(parts.has_value());
  return *parts;
}

std::string parse_error(const std::string &body, const std::string &boundary = "b0undary") {
  std::string error;
  REQUIRE_FALSE(sim::parse_multipart(body, boundary, error).has_value());
  REQUIRE_FALSE(error.empty());
  return error;
}

} // namespace

TEST_CASE("multipart_boundary reads the boundary of form-data only", "[sim][multipart]") {
  REQUIRE(sim::multipart_boundary("multipart/form-data; boundary=abc") == "abc");
  REQUIRE(sim::multipart_boundary("Multipart/Form-Data;BOUNDARY=\"a;b c\"") == "a;b c");
  // undici (Node's fetch) sends this form.
  REQUIRE(sim::multipart_boundary("multipart/form-data; boundary=----formdata-undici-0123") ==
          "----formdata-undici-0123");
  REQUIRE(sim::multipart_boundary("multipart/form-data; charset=utf-8; boundary=x") == "x");
  REQUIRE_FALSE(sim::multipart_boundary("multipart/form-data").has_value());
  REQUIRE_FALSE(sim::multipart_boundary("multipart/form-data; boundary=").has_value());
  REQUIRE_FALSE(sim::multipart_boundary("multipart/mixed; boundary=x").has_value());
  REQUIRE_FALSE(sim::multipart_boundary("application/json").has_value());
  REQUIRE_FALSE(
      sim::multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')).has_value());
}

TEST_CASE("parse_multipart finds each part's headers and exact bytes", "[sim][multipart]") {
  const std::string payload = std::string("line1\r\nline2\r\n--b0undar", 23) + '\0' + "\xff";
  const std::string body = "preamble to ignore\r\n"
                           "--b0undary\r\n"
                           "Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
                           "Content-Type: application/x-thing\r\n"
                           "\r\n" +
                           payload +
                           "\r\n--b0undary \t\r\n" // transport padding after a delimiter
                           "content-disposition: FORM-DATA; name=expires_in_seconds\r\n"
                           "\r\n"
                           "3600"
                           "\r\n--b0undary\r\n"
                           "Content-Disposition: form-data; name=\"empty\"\r\n"
                           "\r\n"
                           "\r\n--b0undary--\r\nepilogue to ignore";
  const auto parts = parse_ok(body, "b0undary");
  REQUIRE(parts.size() == 3);
  REQUIRE(parts[0].name == "file");
  REQUIRE(parts[0].filename == "a.bin");
  REQUIRE(parts[0].content_type == "application/x-thing");
  REQUIRE(parts[0].bytes(body) == payload);
  REQUIRE(parts[1].name == "expires_in_seconds");
  REQUIRE_FALSE(parts[1].filename.has_value());
  REQUIRE(parts[1].content_type.empty());
  REQUIRE(parts[1].bytes(body) == "3600");
  REQUIRE(parts[2].name == "empty");
  REQUIRE(parts[2].size == 0);
}

TEST_CASE("parse_multipart decodes filenames as browsers, undici and curl escape them",
          "[sim][multipart]") {
  auto filename_of = [](const std::string &disposition) {
    const std::string body = "--x\r\nContent-Disposition: " + disposition + "\r\n\r\ndata\r\n--x--";
    return parse_ok(body, "x").at(0).filename.value_or("<none>");
  };
  REQUIRE(filename_of(R"(form-data; name="file"; filename="we%22ird%0Aname.txt")") ==
          "we\"ird\nname.txt");
  REQUIRE(filename_of(R"(form-data; name="file"; filename="back\"slash.txt")") ==
          "back\"slash.txt");
  REQUIRE(filename_of(R"(form-data; name="file"; filename="semi;colon.txt")") == "semi;colon.txt");
  REQUIRE(filename_of(R"(form-data; name="file"; filename="100%41.txt")") == "100%41.txt");
  REQUIRE(filename_of(R"(form-data; name="file"; filename="plain.txt"; )"
                      R"(filename*=UTF-8''na%C3%AFve.txt)") == "na\xc3\xafve.txt");
  REQUIRE(filename_of(R"(form-data; name="file"; filename="")").empty());
  REQUIRE(filename_of(R"(form-data; name="file")") == "<none>");
}

TEST_CASE("parse_multipart refuses bodies that are not well-formed", "[sim][multipart]") {
  const std::string part = "Content-Disposition: form-data; name=\"file\"\r\n\r\nabc";
  REQUIRE(parse_error("no delimiter at all") == "no opening boundary");
  REQUIRE(parse_error("--b0undary\r\n" + part) == "no closing boundary");
  REQUIRE(parse_error("--b0undary\r\n" + part + "\r\n--other--") == "no closing boundary");
  REQUIRE(parse_error("--b0undary--") == "no parts");
  REQUIRE(parse_error("--b0undaryX\r\n" + part + "\r\n--b0undary--") ==
          "boundary line not followed by CRLF");
  REQUIRE(parse_error("--b0undary\r\nContent-Disposition: form-data; name=x") ==
          "part headers do not end");
  REQUIRE(parse_error("--b0undary\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b0undary--") ==
          "part without a Content-Disposition header");
  REQUIRE(parse_error("--b0undary\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nabc"
                      "\r\n--b0undary--")
              .find("form-data") != std::string::npos);
  REQUIRE(parse_error("--b0undary\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--b0undary--")
              .find("name") != std::string::npos);
  REQUIRE(parse_error("--b0undary\r\nno colon here\r\n\r\nabc\r\n--b0undary--").find("colon") !=
          std::string::npos);
}

TEST_CASE("media_type keeps the type without parameters, lower-cased", "[sim][multipart]") {
  REQUIRE(sim::media_type("Text/Plain; charset=UTF-8") == "text/plain");
  REQUIRE(sim::media_type(" application/pdf ") == "application/pdf");
  REQUIRE(sim::media_type("").empty());
}

TEST_CASE("digests, timestamps and attachment names have the API's formats", "[sim]") {
  REQUIRE(sim::sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  REQUIRE(sim::sha256_hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  using namespace std::chrono;
  const sim::time_point t =
      sys_days(year(2024) / 8 / 20) + hours(18) + minutes(37) + seconds(24) + microseconds(100435);
  REQUIRE(sim::rfc3339(t) == "2024-08-20T18:37:24.100435Z");
  REQUIRE(sim::rfc3339(sim::time_point{}) == "1970-01-01T00:00:00.000000Z");

  REQUIRE(sim::attachment_disposition("msgbatch_1_results.jsonl") ==
          "attachment; filename*=utf-8''msgbatch_1_results.jsonl");
  REQUIRE(sim::attachment_disposition("a \"b\"\n.txt") ==
          "attachment; filename*=utf-8''a%20%22b%22%0A.txt");

  REQUIRE(sim::query_param("limit=2&after_id=x", "after_id") == "x");
  REQUIRE(sim::query_param("beta=true", "limit") == std::nullopt);
}
