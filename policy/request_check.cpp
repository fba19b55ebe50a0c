#include "policy/request_check.hpp"

#include "core/text.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace proxy {

bool canonical_path(std::string_view path) {
  if (path.empty() || path.front() != '/')
    return false;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    auto segment = path.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..")
      return false;
    for (char c : segment)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~'))
        return false;
    if (slash == std::string_view::npos)
      return true;
    path.remove_prefix(slash + 1);
  }
}

route classify(boost::beast::http::verb method, std::string_view target, bool admin_enabled) {
  using boost::beast::http::verb;
  auto path = target.substr(0, target.find('?'));
  if (!canonical_path(path))
    return route::not_found;
  auto expect = [&](verb wanted, route r) {
    return method == wanted ? r : route::method_not_allowed;
  };
  if (path == "/health")
    return expect(verb::get, route::health);
  if (path == "/metrics")
    return expect(verb::get, route::metrics);
  if (path == "/admin/credentials")
    return admin_enabled ? expect(verb::post, route::admin_credentials) : route::not_found;
  if (path == "/v1/messages")
    return expect(verb::post, route::messages);
  if (path == "/v1/messages/count_tokens")
    return expect(verb::post, route::count_tokens);
  if (path == "/v1/chat/completions")
    return expect(verb::post, route::chat_completions);
  constexpr std::string_view models = "/v1/models/";
  if (path == models.substr(0, models.size() - 1) ||
      (path.substr(0, models.size()) == models &&
       path.find('/', models.size()) == std::string_view::npos))
    return expect(verb::get, route::models);
  return route::not_found;
}

std::string not_found_message(std::string_view target, std::string_view origin) {
  auto path = target.substr(0, target.find('?'));
  std::string message = "Not found: " + utf8_prefix(path, 200);
  auto starts = [&](std::string_view prefix) {
    return path == prefix || path.substr(0, prefix.size() + 1) == std::string(prefix) + "/";
  };
  std::string base(origin);
  if (starts("/v1/v1")) {
    message += ". The client added /v1 to a base URL that already ends in /v1: for this client "
               "use the base URL " +
               base + " (without /v1).";
  } else if (starts("/messages") || starts("/models") || starts("/chat/completions") ||
             starts("/complete")) {
    message += ". This proxy serves the Anthropic API under /v1: use the base URL " + base +
               "/v1 for clients that expect it there (opencode, the Vercel AI SDK, the openai "
               "SDK), or " +
               base +
               " for clients that add /v1 themselves (the official Anthropic SDKs, Claude "
               "Code, LangChain).";
  }
  return message;
}

const char *route_name(route r) {
  switch (r) {
  case route::health:
    return "health";
  case route::metrics:
    return "metrics";
  case route::messages:
    return "messages";
  case route::count_tokens:
    return "count_tokens";
  case route::models:
    return "models";
  case route::chat_completions:
    return "chat_completions";
  case route::admin_credentials:
    return "admin_credentials";
  case route::not_found:
    return "not_found";
  case route::method_not_allowed:
    return "method_not_allowed";
  }
  return "unknown";
}

bool takes_body(route r) {
  switch (r) {
  case route::messages:
  case route::count_tokens:
  case route::chat_completions:
  case route::admin_credentials:
    return true;
  case route::health:
  case route::metrics:
  case route::models:
  case route::not_found:
  case route::method_not_allowed:
    return false;
  }
  return false;
}

namespace {

/// What a Messages body says at its top level, read as the parser goes (no document is built,
/// which for bodies of many megabytes would cost as much memory again). The first occurrence of
/// a key counts, as with a document lookup.
class facts_reader : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, facts_reader> {
public:
  enum class kind { absent, string, array, other };
  bool object = false;
  kind model = kind::absent, messages = kind::absent;
  std::string model_name;
  bool stream = false;

  bool Default() { return value(kind::other); }
  bool String(const char *s, rapidjson::SizeType n, bool) {
    if (depth_ == 1 && key_ == "model" && model == kind::absent)
      model_name.assign(s, n);
    return value(kind::string);
  }
  bool Bool(bool b) {
    if (depth_ == 1 && key_ == "stream" && !stream_seen_) {
      stream = b;
      stream_seen_ = true;
    }
    return value(kind::other);
  }
  bool Key(const char *s, rapidjson::SizeType n, bool) {
    if (depth_ == 1)
      key_.assign(s, n);
    return true;
  }
  bool StartObject() {
    if (depth_ == 0)
      object = true;
    value(kind::other);
    ++depth_;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    return true;
  }
  bool StartArray() {
    value(kind::array);
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }

private:
  /// Notes a value that starts at the current depth.
  bool value(kind k) {
    if (depth_ == 1) {
      if (key_ == "model" && model == kind::absent)
        model = k;
      else if (key_ == "messages" && messages == kind::absent)
        messages = k;
      else if (key_ == "stream")
        stream_seen_ = true;
    }
    return true;
  }
  int depth_ = 0;
  std::string key_;
  bool stream_seen_ = false;
};

} // namespace

std::variant<message_facts, api_error> check_message_body(std::string_view content_type,
                                                          std::string_view body) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  if (media != "application/json")
    return make_api_error(400, "Content-Type must be application/json");
  facts_reader facts;
  rapidjson::Reader reader;
  rapidjson::MemoryStream in(body.data(), body.size());
  auto result = reader.Parse<rapidjson::kParseIterativeFlag>(in, facts);
  if (result.IsError())
    return make_api_error(400, std::string("Request body is not valid JSON: ") +
                                   rapidjson::GetParseError_En(result.Code()) + " (at byte " +
                                   std::to_string(result.Offset()) + ")");
  if (!facts.object)
    return make_api_error(400, "Request body must be a JSON object");
  if (facts.model != facts_reader::kind::string || facts.model_name.empty())
    return make_api_error(400, "model: Field required (a non-empty string)");
  if (facts.messages != facts_reader::kind::array)
    return make_api_error(400, "messages: Field required (an array)");
  return message_facts{std::move(facts.model_name), facts.stream};
}

} // namespace proxy
