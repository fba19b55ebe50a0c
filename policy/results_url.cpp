#include "policy/results_url.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace proxy {
namespace {

/// The path (and query) of an absolute URL to a batch's results; none for anything else.
std::optional<std::string_view> results_path(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || url.substr(0, scheme_end).find('/') != url.npos)
    return std::nullopt;
  auto path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string_view::npos)
    return std::nullopt;
  auto path = url.substr(path_start);
  constexpr std::string_view batches = "/v1/messages/batches/";
  if (path.substr(0, batches.size()) != batches)
    return std::nullopt;
  return path;
}

/// Moves `batch`'s results_url to `origin`; true when it changed.
bool rewrite_one(rapidjson::Value &batch, std::string_view origin,
                 rapidjson::Document::AllocatorType &alloc) {
  if (!batch.IsObject())
    return false;
  auto it = batch.FindMember("results_url");
  if (it == batch.MemberEnd() || !it->value.IsString())
    return false;
  auto path = results_path({it->value.GetString(), it->value.GetStringLength()});
  if (!path)
    return false;
  std::string moved = std::string(origin) + std::string(*path);
  it->value.SetString(moved.data(), static_cast<rapidjson::SizeType>(moved.size()), alloc);
  return true;
}

} // namespace

std::optional<std::string> rewrite_results_urls(std::string_view json, std::string_view origin) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::nullopt;
  auto &alloc = doc.GetAllocator();
  bool changed = rewrite_one(doc, origin, alloc);
  if (auto data = doc.FindMember("data"); data != doc.MemberEnd() && data->value.IsArray())
    for (auto &batch : data->value.GetArray())
      changed = rewrite_one(batch, origin, alloc) || changed;
  if (!changed)
    return std::nullopt;
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  doc.Accept(writer);
  return std::string(out.GetString(), out.GetSize());
}

} // namespace proxy
