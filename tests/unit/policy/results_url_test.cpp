#include "policy/results_url.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

using namespace proxy;

namespace {
std::string results_url_of(const rapidjson::Value &batch) {
  return batch["results_url"].IsString() ? batch["results_url"].GetString() : "<not a string>";
}
} // namespace

TEST_CASE("a batch's results_url moves to the proxy's origin, path and query kept") {
  auto out = rewrite_results_urls(
      R"({"id":"msgbatch_1","type":"message_batch","processing_status":"ended",)"
      R"("results_url":"https://api.anthropic.com/v1/messages/batches/msgbatch_1/results?x=1"})",
      "http://127.0.0.1:8080");
  REQUIRE(out);
  rapidjson::Document doc;
  doc.Parse(out->data(), out->size());
  REQUIRE(doc.IsObject());
  CHECK(results_url_of(doc) == "http://127.0.0.1:8080/v1/messages/batches/msgbatch_1/results?x=1");
  CHECK(std::string(doc["id"].GetString()) == "msgbatch_1");
  CHECK(std::string(doc["processing_status"].GetString()) == "ended");
}

TEST_CASE("every batch of a list is rewritten") {
  auto out = rewrite_results_urls(
      R"({"data":[{"id":"a","results_url":"https://up.example/v1/messages/batches/a/results"},)"
      R"({"id":"b","results_url":null},)"
      R"({"id":"c","results_url":"http://up.example:9/v1/messages/batches/c/results"}],)"
      R"("has_more":false})",
      "https://edge.example");
  REQUIRE(out);
  rapidjson::Document doc;
  doc.Parse(out->data(), out->size());
  REQUIRE(doc["data"].IsArray());
  CHECK(results_url_of(doc["data"][0]) == "https://edge.example/v1/messages/batches/a/results");
  CHECK(doc["data"][1]["results_url"].IsNull());
  CHECK(results_url_of(doc["data"][2]) == "https://edge.example/v1/messages/batches/c/results");
  CHECK(doc["has_more"].IsFalse());
}

TEST_CASE("answers with nothing to move go as they came") {
  CHECK_FALSE(rewrite_results_urls(R"({"id":"msgbatch_1","results_url":null})", "http://p"));
  CHECK_FALSE(
      rewrite_results_urls(R"({"results_url":"https://x/v1/files/f/content"})", "http://p"));
  CHECK_FALSE(
      rewrite_results_urls(R"({"results_url":"/v1/messages/batches/a/results"})", "http://p"));
  CHECK_FALSE(rewrite_results_urls(R"({"results_url":"a/b://x/v1/messages/batches/a/results"})",
                                   "http://p"));
  CHECK_FALSE(rewrite_results_urls("not json", "http://p"));
  CHECK_FALSE(rewrite_results_urls(R"(["results_url"])", "http://p"));
  CHECK_FALSE(rewrite_results_urls("", "http://p"));
}
