#include "auth/oauth.hpp"

#include "core/json.hpp"

#include <rapidjson/document.h>

#include <charconv>

namespace proxy {
namespace {

bool is_permanent_oauth_error(std::string_view code) {
  return code == "invalid_grant" || code == "invalid_client" || code == "unauthorized_client" ||
         code == "unsupported_grant_type" || code == "invalid_scope";
}

std::string short_text(std::string_view s) {
  constexpr std::size_t limit = 200;
  return std::string(s.substr(0, limit));
}

} // namespace

std::string refresh_request_body(std::string_view refresh_token, std::string_view client_id) {
  return write_json([&](json_writer &w) {
    w.StartObject();
    json_field(w, "grant_type", "refresh_token");
    json_field(w, "refresh_token", refresh_token);
    json_field(w, "client_id", client_id);
    w.EndObject();
  });
}

refresh_outcome parse_refresh_response(unsigned status, std::string_view body,
                                       std::string_view retry_after,
                                       const std::string &old_refresh_token, std::int64_t now_ms) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  bool is_object = !doc.HasParseError() && doc.IsObject();
  auto string_field = [&](const char *name) -> std::string {
    if (!is_object)
      return {};
    auto it = doc.FindMember(name);
    return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string{};
  };

  if (status != 200) {
    refresh_failure f;
    auto code = string_field("error");
    auto description = string_field("error_description");
    f.permanent = is_permanent_oauth_error(code);
    std::int64_t seconds = 0;
    std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
    f.retry_after = std::chrono::seconds(seconds);
    // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
    f.message = "token endpoint answered ";
    f.message += std::to_string(status);
    if (!code.empty())
      f.message.append(" ").append(short_text(code));
    if (!description.empty())
      f.message.append(": ").append(short_text(description));
    // 4xx other than 408/429 will not get better by retrying the same refresh token.
    if (status >= 400 && status < 500 && status != 408 && status != 429 && code.empty())
      f.permanent = status == 401 || status == 403;
    return f;
  }
  oauth_tokens t;
  t.access_token = string_field("access_token");
  if (t.access_token.empty())
    return refresh_failure{false, "token endpoint answered 200 without an access_token", {}};
  t.refresh_token = string_field("refresh_token");
  if (t.refresh_token.empty())
    t.refresh_token = old_refresh_token;
  std::int64_t expires_in = 3600;
  if (auto it = doc.FindMember("expires_in"); it != doc.MemberEnd() && it->value.IsInt64())
    expires_in = it->value.GetInt64();
  t.expires_at_ms = now_ms + expires_in * 1000;
  return t;
}

} // namespace proxy
