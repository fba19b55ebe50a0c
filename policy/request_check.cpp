#include "policy/request_check.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace proxy {

route classify(boost::beast::http::verb method, std::string_view target) {
  using boost::beast::http::verb;
  auto path = target.substr(0, target.find('?'));
  auto expect = [&](verb wanted, route r) {
    return method == wanted ? r : route::method_not_allowed;
  };
  if (path == "/health")
    return expect(verb::get, route::health);
  if (path == "/admin/credentials")
    return expect(verb::post, route::admin_credentials);
  if (path == "/v1/messages")
    return expect(verb::post, route::messages);
  if (path == "/v1/messages/count_tokens")
    return expect(verb::post, route::count_tokens);
  constexpr std::string_view models = "/v1/models";
  if (path == models ||
      (path.size() > models.size() + 1 && path.substr(0, models.size() + 1) == "/v1/models/" &&
       path.find('/', models.size() + 1) == std::string_view::npos))
    return expect(verb::get, route::models);
  return route::not_found;
}

std::variant<message_facts, api_error> check_message_body(std::string_view content_type,
                                                          std::string_view body) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  if (media != "application/json")
    return make_api_error(400, "Content-Type must be application/json");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError())
    return make_api_error(400, std::string("Request body is not valid JSON: ") +
                                   rapidjson::GetParseError_En(doc.GetParseError()) + " (at byte " +
                                   std::to_string(doc.GetErrorOffset()) + ")");
  if (!doc.IsObject())
    return make_api_error(400, "Request body must be a JSON object");
  message_facts facts;
  auto model = doc.FindMember("model");
  if (model == doc.MemberEnd() || !model->value.IsString() || model->value.GetStringLength() == 0)
    return make_api_error(400, "model: Field required (a non-empty string)");
  facts.model = model->value.GetString();
  auto messages = doc.FindMember("messages");
  if (messages == doc.MemberEnd() || !messages->value.IsArray())
    return make_api_error(400, "messages: Field required (an array)");
  if (auto stream = doc.FindMember("stream"); stream != doc.MemberEnd() && stream->value.IsBool())
    facts.stream = stream->value.GetBool();
  return facts;
}

} // namespace proxy
