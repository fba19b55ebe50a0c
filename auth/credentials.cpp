#include "auth/credentials.hpp"

#include "core/text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>

namespace proxy {
namespace {

/// Without whitespace of any kind at both ends (values pasted into files and variables).
std::string_view trim_space(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string decode_hex(std::string_view text) {
  text = trim_space(text);
  if (text.empty() || text.size() % 2 != 0)
    return {};
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0)
      return {};
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

result<std::string> parse_api_key_push(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return failure{"not a JSON object"};
  auto key = doc.FindMember("api_key");
  if (key == doc.MemberEnd() || !key->value.IsString())
    return failure{"api_key: a string is required"};
  std::string_view value(key->value.GetString(), key->value.GetStringLength());
  if (value.empty() || value.size() > 1024)
    return failure{"api_key must have 1 to 1024 characters"};
  for (char c : value)
    if (c < 0x21 || c > 0x7e)
      return failure{"api_key must be one token of visible ASCII characters"};
  return std::string(value);
}

result<oauth_tokens> parse_claude_credentials(std::string_view text) {
  text = trim_space(text);
  if (text.empty())
    return failure{"credentials are empty"};
  std::string decoded;
  if (text.front() != '{' && text.front() != '[') {
    decoded = decode_hex(text);
    if (decoded.empty())
      return failure{"credentials are neither JSON nor hex-encoded JSON"};
    text = decoded;
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError())
    return failure{std::string("credentials are not valid JSON: ") +
                   rapidjson::GetParseError_En(doc.GetParseError())};
  if (!doc.IsObject())
    return failure{"credentials must be a JSON object"};
  auto oauth = doc.FindMember("claudeAiOauth");
  if (oauth == doc.MemberEnd() || !oauth->value.IsObject())
    return failure{"credentials have no \"claudeAiOauth\" object"};
  const auto &o = oauth->value;
  oauth_tokens out;
  auto access = o.FindMember("accessToken");
  if (access == o.MemberEnd() || !access->value.IsString() || access->value.GetStringLength() == 0)
    return failure{"credentials have no claudeAiOauth.accessToken"};
  out.access_token = access->value.GetString();
  if (auto refresh = o.FindMember("refreshToken"); refresh != o.MemberEnd()) {
    if (!refresh->value.IsString() && !refresh->value.IsNull())
      return failure{"claudeAiOauth.refreshToken must be a string"};
    if (refresh->value.IsString())
      out.refresh_token = refresh->value.GetString();
  }
  if (auto expires = o.FindMember("expiresAt"); expires != o.MemberEnd()) {
    if (expires->value.IsInt64())
      out.expires_at_ms = expires->value.GetInt64();
    else if (expires->value.IsNumber()) {
      // A fraction is fine; a value past int64 (1e205, found by the credentials fuzzer) cannot
      // be converted without undefined behaviour.
      double ms = expires->value.GetDouble();
      if (!(ms > -9.2e18 && ms < 9.2e18))
        return failure{"claudeAiOauth.expiresAt is out of range (epoch milliseconds)"};
      out.expires_at_ms = static_cast<std::int64_t>(ms);
    } else if (!expires->value.IsNull())
      return failure{"claudeAiOauth.expiresAt must be a number (epoch milliseconds)"};
  }
  return out;
}

std::string update_claude_credentials(std::string_view original, const oauth_tokens &tokens) {
  rapidjson::Document doc;
  std::string decoded;
  auto text = trim_space(original);
  if (!text.empty() && text.front() != '{') {
    decoded = decode_hex(text);
    text = decoded;
  }
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    doc.SetObject();
  auto &alloc = doc.GetAllocator();
  // Every claudeAiOauth that is not an object goes, duplicates included (found by the
  // credentials fuzzer: removing one moved another, a number, into its place).
  auto oauth = doc.FindMember("claudeAiOauth");
  while (oauth != doc.MemberEnd() && !oauth->value.IsObject()) {
    doc.RemoveMember(oauth);
    oauth = doc.FindMember("claudeAiOauth");
  }
  if (oauth == doc.MemberEnd()) {
    doc.AddMember("claudeAiOauth", rapidjson::Value(rapidjson::kObjectType), alloc);
    oauth = doc.FindMember("claudeAiOauth");
  }
  auto &o = oauth->value;
  auto put = [&](const char *key, rapidjson::Value value) {
    if (auto it = o.FindMember(key); it != o.MemberEnd())
      it->value = value;
    else
      o.AddMember(rapidjson::StringRef(key), value, alloc);
  };
  put("accessToken", rapidjson::Value(tokens.access_token.c_str(), alloc));
  put("refreshToken", rapidjson::Value(tokens.refresh_token.c_str(), alloc));
  put("expiresAt", rapidjson::Value(static_cast<int64_t>(tokens.expires_at_ms)));
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  if (!doc.Accept(writer)) {
    // The original holds what JSON cannot say again (a number past a double, read as
    // infinity): the writer stopped halfway. Found by the credentials fuzzer; a truncated file
    // would lose the rotated pair, so write the pair into a fresh document instead.
    return original.empty() ? std::string() : update_claude_credentials({}, tokens);
  }
  return buf.GetString();
}

} // namespace proxy
