#include "policy/request_check.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <span>

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

namespace {

using boost::beast::http::verb;
constexpr std::uint64_t MiB = 1u << 20;
enum method_bits : unsigned { GET = 1, POST = 2, DELETE = 4 };

unsigned bit_of(verb method) {
  switch (method) {
  case verb::get:
    return GET;
  case verb::post:
    return POST;
  case verb::delete_:
    return DELETE;
  default:
    return 0;
  }
}

/// One endpoint: a path pattern whose "*" segment matches any one segment and whose final "**"
/// matches one or more, and the methods it takes.
struct api_endpoint {
  std::string_view pattern;
  unsigned methods;
};

/// A family of endpoints that go upstream, with the largest request body it takes.
struct api_family {
  route kind;
  std::uint64_t max_body;
  std::span<const api_endpoint> endpoints;
};

// The API families the proxy passes through, byte for byte (the Anthropic API reference and the
// current TypeScript SDK's paths; a beta family's `?beta=true` query goes upstream as it came).
constexpr api_endpoint messages_api[] = {{"/v1/messages", POST}};
constexpr api_endpoint count_tokens_api[] = {{"/v1/messages/count_tokens", POST}};
constexpr api_endpoint batches_api[] = {
    {"/v1/messages/batches", GET | POST},
    {"/v1/messages/batches/*", GET | DELETE},
    {"/v1/messages/batches/*/cancel", POST},
    {"/v1/messages/batches/*/results", GET}, // JSONL, streamed back
};
constexpr api_endpoint files_api[] = {
    {"/v1/files", GET | POST},
    {"/v1/files/*", GET | DELETE},
    {"/v1/files/*/content", GET},
};
constexpr api_endpoint models_api[] = {{"/v1/models", GET}, {"/v1/models/*", GET}};
constexpr api_endpoint chat_api[] = {{"/v1/chat/completions", POST}};
constexpr api_endpoint skills_api[] = {
    {"/v1/skills", GET | POST},
    {"/v1/skills/*", GET | DELETE},
    {"/v1/skills/*/versions", GET | POST},
    {"/v1/skills/*/versions/*", GET | DELETE},
    {"/v1/skills/*/versions/*/content", GET},
};
// The agent families of the SDK's beta namespace, each passed through below its root.
#define AGENT_FAMILY(root)                                                                         \
  {root, GET | POST}, {                                                                            \
    root "/**", GET | POST | DELETE                                                                \
  }
constexpr api_endpoint agents_api[] = {
    AGENT_FAMILY("/v1/agents"),          AGENT_FAMILY("/v1/sessions"),
    AGENT_FAMILY("/v1/environments"),    AGENT_FAMILY("/v1/memory_stores"),
    AGENT_FAMILY("/v1/vaults"),          AGENT_FAMILY("/v1/deployments"),
    AGENT_FAMILY("/v1/deployment_runs"), AGENT_FAMILY("/v1/dreams"),
    AGENT_FAMILY("/v1/tunnels"),         AGENT_FAMILY("/v1/user_profiles"),
};
#undef AGENT_FAMILY

constexpr api_family api_families[] = {
    {route::messages, 32 * MiB, messages_api},
    {route::count_tokens, 32 * MiB, count_tokens_api},
    {route::batches, 256 * MiB, batches_api},
    {route::files, 501 * MiB, files_api}, // a 500 MiB file and its multipart framing
    {route::models, 0, models_api},
    {route::chat_completions, 32 * MiB, chat_api},
    {route::skills, 32 * MiB, skills_api},
    {route::agents, 32 * MiB, agents_api},
};

/// Whether canonical `path` matches `pattern`, segment by segment.
bool matches(std::string_view pattern, std::string_view path) {
  auto next = [](std::string_view &s) {
    s.remove_prefix(1); // the "/"
    auto slash = std::min(s.find('/'), s.size());
    auto segment = s.substr(0, slash);
    s.remove_prefix(slash);
    return segment;
  };
  while (!pattern.empty()) {
    if (path.empty())
      return false;
    auto want = next(pattern);
    auto have = next(path);
    if (want == "**")
      return true; // at least one segment, which `have` is
    if (want != "*" && want != have)
      return false;
  }
  return path.empty();
}

} // namespace

route classify(verb method, std::string_view target, bool admin_enabled) {
  auto path = target.substr(0, target.find('?'));
  if (path == "/")
    return method == verb::get ? route::root : route::method_not_allowed;
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
  for (const auto &family : api_families)
    for (const auto &endpoint : family.endpoints)
      if (matches(endpoint.pattern, path))
        return (endpoint.methods & bit_of(method)) ? family.kind : route::method_not_allowed;
  return route::not_found;
}

body_mode body_of(route r, verb method) {
  switch (r) {
  case route::messages:
  case route::count_tokens:
  case route::chat_completions:
  case route::admin_credentials:
    return body_mode::whole;
  case route::batches:
  case route::files:
  case route::skills:
  case route::agents:
    return method == verb::post ? body_mode::streamed : body_mode::none;
  default:
    return body_mode::none;
  }
}

std::uint64_t body_limit(route r) {
  for (const auto &family : api_families)
    if (family.kind == r)
      return family.max_body;
  return 0;
}

std::uint64_t largest_body_limit() {
  std::uint64_t largest = 0;
  for (const auto &family : api_families)
    largest = std::max(largest, family.max_body);
  return largest;
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
  case route::root:
    return "root";
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
  case route::batches:
    return "batches";
  case route::files:
    return "files";
  case route::skills:
    return "skills";
  case route::agents:
    return "agents";
  case route::admin_credentials:
    return "admin_credentials";
  case route::not_found:
    return "not_found";
  case route::method_not_allowed:
    return "method_not_allowed";
  }
  return "unknown";
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
