#include "sim/resources.hpp"

#include "sim/multipart.hpp"

#include "core/text.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <unordered_set>

namespace sim {

using proxy::trim;

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;
constexpr std::string_view k_invalid = "invalid_request_error";
constexpr std::string_view k_not_found = "not_found_error";
constexpr std::size_t k_results_piece = 64 * 1024;
constexpr std::size_t k_max_batch_requests = 100000;

void key(json_writer &w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

void put(json_writer &w, std::string_view v) {
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void put_time(json_writer &w, const std::optional<time_point> &t) {
  if (t)
    put(w, rfc3339(*t));
  else
    w.Null();
}

template <class Fn> std::string write_json(Fn &&fn) {
  rapidjson::StringBuffer sb;
  json_writer w(sb);
  fn(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// {"id":..,"type":"<kind>_deleted"}: what every delete answers.
std::string deleted_json(std::string_view id, std::string_view type) {
  return write_json([&](json_writer &w) {
    w.StartObject();
    key(w, "id");
    put(w, id);
    key(w, "type");
    put(w, type);
    w.EndObject();
  });
}

outcome not_found(std::string_view what, std::string_view id) {
  return outcome::failure(404, k_not_found, std::string(what) + " not found: " + std::string(id));
}

// A page of a newest-first list, chosen the way the API's list endpoints do.
struct page_window {
  std::size_t begin = 0, end = 0;
  bool has_more = false;
};

std::optional<std::size_t> position(const std::vector<std::string_view> &ids, std::string_view id) {
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == id)
      return i;
  return std::nullopt;
}

// limit (1..max_limit, default 20), after_id or page (older than that id), before_id (newer
// than that id: the `limit` closest to it). nullopt and `problem` for bad values.
std::optional<page_window> paginate(const std::vector<std::string_view> &ids,
                                    std::string_view query, std::size_t max_limit,
                                    std::string &problem) {
  std::size_t limit = 20;
  if (auto l = query_param(query, "limit")) {
    auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (ec != std::errc() || ptr != l->data() + l->size() || limit < 1 || limit > max_limit) {
      problem = "limit: Input should be between 1 and " + std::to_string(max_limit);
      return std::nullopt;
    }
  }
  page_window p{0, ids.size(), false};
  const char *after_name = "after_id";
  auto after = query_param(query, after_name);
  if (!after)
    after = query_param(query, after_name = "page");
  if (after) {
    const auto i = position(ids, *after);
    if (!i) {
      problem = std::string(after_name) + ": no object with id " + std::string(*after);
      return std::nullopt;
    }
    p.begin = *i + 1;
  }
  bool backwards = false;
  if (auto before = query_param(query, "before_id")) {
    const auto i = position(ids, *before);
    if (!i) {
      problem = "before_id: no object with id " + std::string(*before);
      return std::nullopt;
    }
    p.end = std::max(p.begin, *i);
    backwards = true;
  }
  p.has_more = p.end - p.begin > limit;
  if (p.has_more) {
    if (backwards)
      p.begin = p.end - limit;
    else
      p.end = p.begin + limit;
  }
  return p;
}

enum page_fields : unsigned { first_last = 1, next_page = 2 };

// {"data":[..],"has_more":..} plus "first_id"/"last_id" (the after_id/before_id cursors) and/or
// "next_page" (the cursor newer SDKs send back as ?page=). `render(w, i)` writes item i.
template <class Render>
std::string page_json(const std::vector<std::string_view> &ids, const page_window &p,
                      unsigned fields, Render render) {
  const bool any = p.begin < p.end;
  auto put_id = [&](json_writer &w, bool present, std::size_t i) {
    if (present)
      put(w, ids[i]);
    else
      w.Null();
  };
  return write_json([&](json_writer &w) {
    w.StartObject();
    key(w, "data");
    w.StartArray();
    for (std::size_t i = p.begin; i < p.end; ++i)
      render(w, i);
    w.EndArray();
    key(w, "has_more");
    w.Bool(p.has_more);
    if (fields & first_last) {
      key(w, "first_id");
      put_id(w, any, p.begin);
      key(w, "last_id");
      put_id(w, any, p.end - 1);
    }
    if (fields & next_page) {
      key(w, "next_page");
      put_id(w, any && p.has_more, p.end - 1);
    }
    w.EndObject();
  });
}

template <class T> std::vector<std::string_view> ids_of(const std::vector<const T *> &records) {
  std::vector<std::string_view> ids;
  ids.reserve(records.size());
  for (const T *r : records)
    ids.push_back(r->id);
  return ids;
}

std::string serialize(const rapidjson::Value &v) {
  return write_json([&](json_writer &w) { v.Accept(w); });
}

// custom_id: 1 to 64 of [A-Za-z0-9_-], as the API requires.
bool valid_custom_id(std::string_view id) {
  if (id.empty() || id.size() > 64)
    return false;
  for (char ch : id)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-')
      return false;
  return true;
}

// Checks one entry of `requests` (pydantic-style messages, as the API words them).
std::optional<std::string> check_batch_entry(const rapidjson::Value &entry, std::size_t i) {
  const std::string at = "requests." + std::to_string(i);
  if (!entry.IsObject())
    return at + ": Input should be a valid dictionary";
  auto custom_id = entry.FindMember("custom_id");
  if (custom_id == entry.MemberEnd())
    return at + ".custom_id: Field required";
  if (!custom_id->value.IsString())
    return at + ".custom_id: Input should be a valid string";
  if (!valid_custom_id({custom_id->value.GetString(), custom_id->value.GetStringLength()}))
    return at + ".custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'";
  auto params = entry.FindMember("params");
  if (params == entry.MemberEnd())
    return at + ".params: Field required";
  if (!params->value.IsObject())
    return at + ".params: Input should be a valid dictionary";
  auto model = params->value.FindMember("model");
  if (model == params->value.MemberEnd())
    return at + ".params.model: Field required";
  if (!model->value.IsString())
    return at + ".params.model: Input should be a valid string";
  return std::nullopt;
}

} // namespace

outcome outcome::success(std::string body) {
  outcome o;
  o.body = std::move(body);
  return o;
}

outcome outcome::failure(int status, std::string_view type, std::string message) {
  outcome o;
  o.status = status;
  o.error_type = std::string(type);
  o.message = std::move(message);
  return o;
}

std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  return std::nullopt;
}

std::string rfc3339(time_point t) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[32], out[48];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(out, sizeof out, "%s.%06dZ", date, static_cast<int>(us % 1000000));
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

std::string attachment_disposition(std::string_view filename) {
  static constexpr std::string_view attr_chars = "!#$&+-.^_`|~";
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "attachment; filename*=utf-8''";
  for (char ch : filename) {
    const auto byte = static_cast<unsigned char>(ch);
    if (std::isalnum(byte) || attr_chars.find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 15]);
    }
  }
  return out;
}

// ---- Message Batches ---------------------------------------------------------------------

outcome batch_store::create(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return outcome::failure(400, k_invalid,
                            "There was an error parsing the body of your request: invalid JSON.");
  auto list = doc.FindMember("requests");
  if (list == doc.MemberEnd())
    return outcome::failure(400, k_invalid, "requests: Field required");
  if (!list->value.IsArray())
    return outcome::failure(400, k_invalid, "requests: Input should be a valid list");
  const auto &entries = list->value.GetArray();
  if (entries.Empty())
    return outcome::failure(400, k_invalid,
                            "requests: List should have at least 1 item after validation, not 0");
  if (entries.Size() > k_max_batch_requests)
    return outcome::failure(400, k_invalid, "requests: List should have at most 100000 items");

  batch b;
  std::unordered_set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < entries.Size(); ++i) {
    if (auto problem = check_batch_entry(entries[i], i))
      return outcome::failure(400, k_invalid, std::move(*problem));
    const auto &id = entries[i]["custom_id"];
    std::string custom_id(id.GetString(), id.GetStringLength());
    if (!seen.insert(custom_id).second)
      return outcome::failure(400, k_invalid,
                              "requests: custom_id values must be unique within a batch; '" +
                                  custom_id + "' is repeated");
    b.requests.push_back({std::move(custom_id), serialize(entries[i]["params"])});
  }
  b.id = "msgbatch_sim_" + std::to_string(++batch_counter_);
  b.created_at = std::chrono::system_clock::now();
  const batch &stored = batches_.add(std::move(b));
  return outcome::success(render(stored, {}));
}

outcome batch_store::retrieve(std::string_view id, std::string_view base_url) {
  batch *b = batches_.find(id);
  if (!b)
    return not_found("Message Batch", id);
  // Polling is what moves a batch on: the simulator processes everything at once.
  if (b->status != batch::state::ended)
    finish(*b);
  return outcome::success(render(*b, base_url));
}

outcome batch_store::list(std::string_view query, std::string_view base_url) const {
  const auto all = batches_.newest_first();
  const auto ids = ids_of(all);
  std::string problem;
  const auto page = paginate(ids, query, 1000, problem);
  if (!page)
    return outcome::failure(400, k_invalid, std::move(problem));
  // Batch lists page by after_id/before_id only (the SDK's Page), so no next_page.
  std::string body = page_json(ids, *page, first_last, [&](json_writer &w, std::size_t i) {
    const std::string one = render(*all[i], base_url);
    w.RawValue(one.data(), one.size(), rapidjson::kObjectType);
  });
  return outcome::success(std::move(body));
}

outcome batch_store::cancel(std::string_view id, std::string_view base_url) {
  batch *b = batches_.find(id);
  if (!b)
    return not_found("Message Batch", id);
  // An ended batch has nothing left to cancel and is answered as it is.
  if (b->status == batch::state::in_progress) {
    b->status = batch::state::canceling;
    b->cancel_initiated_at = std::chrono::system_clock::now();
  }
  return outcome::success(render(*b, base_url));
}

outcome batch_store::remove(std::string_view id) {
  batch *b = batches_.find(id);
  if (!b)
    return not_found("Message Batch", id);
  if (b->status == batch::state::canceling)
    finish(*b); // the cancel completes first
  if (b->status != batch::state::ended)
    return outcome::failure(400, k_invalid,
                            "Message Batch " + std::string(id) +
                                " is still in progress; cancel it or wait for it to end "
                                "before deleting it.");
  const std::string deleted = b->id;
  batches_.erase(id);
  return outcome::success(deleted_json(deleted, "message_batch_deleted"));
}

outcome batch_store::results(std::string_view id, std::vector<std::string> &pieces) {
  batch *b = batches_.find(id);
  if (!b)
    return not_found("Message Batch", id);
  if (b->status == batch::state::canceling)
    finish(*b);
  if (b->status != batch::state::ended)
    return outcome::failure(404, k_not_found,
                            "Results of Message Batch " + std::string(id) +
                                " are not available until it has ended.");
  pieces.clear();
  for (const auto &line : b->lines) {
    if (pieces.empty() || pieces.back().size() + line.size() > k_results_piece)
      pieces.emplace_back();
    pieces.back() += line;
  }
  return outcome::success({});
}

// Ends a batch: every request succeeds (or errors, when its params would be refused by
// /v1/messages), or is canceled when a cancel was asked for first.
void batch_store::finish(batch &b) {
  const bool canceled = b.status == batch::state::canceling;
  b.lines.clear();
  b.lines.reserve(b.requests.size());
  for (const auto &r : b.requests)
    b.lines.push_back(result_line(r, canceled, b.succeeded, b.errored));
  b.canceled = canceled ? static_cast<std::int64_t>(b.requests.size()) : 0;
  b.status = batch::state::ended;
  b.ended_at = std::chrono::system_clock::now();
}

namespace {

// {"type":"errored","error":<ErrorResponse>}: what a refused /v1/messages request would get.
void write_errored(json_writer &w, std::string_view problem) {
  put(w, "errored");
  key(w, "error");
  w.StartObject();
  key(w, "type");
  put(w, "error");
  key(w, "error");
  w.StartObject();
  key(w, "type");
  put(w, k_invalid);
  key(w, "message");
  put(w, problem);
  w.EndObject();
  key(w, "request_id");
  w.Null();
  w.EndObject();
}

} // namespace

// The message a non-streamed /v1/messages gives for these params.
std::string batch_store::message_for(const request &r, const message_request &m) {
  scenario_params p = shape_;
  p.kind = m.derived;
  p.model = m.model;
  p.message_id = "msg_sim_batch_" + std::to_string(++message_counter_);
  p.input_tokens = estimate_input_tokens(r.params);
  if (!m.first_tool_name.empty())
    p.tool_name = m.first_tool_name;
  return build_message_json(p);
}

// One JSONL line: {"custom_id":..,"result":{"type":"succeeded"|"errored"|"canceled",..}}.
std::string batch_store::result_line(const request &r, bool canceled, std::int64_t &succeeded,
                                     std::int64_t &errored) {
  std::string problem;
  const auto m = canceled ? std::nullopt : parse_message_request(r.params, true, problem);
  const std::string message = m ? message_for(r, *m) : std::string();
  if (!canceled)
    ++(m ? succeeded : errored);
  return write_json([&](json_writer &w) {
           w.StartObject();
           key(w, "custom_id");
           put(w, r.custom_id);
           key(w, "result");
           w.StartObject();
           key(w, "type");
           if (canceled) {
             put(w, "canceled");
           } else if (m) {
             put(w, "succeeded");
             key(w, "message");
             w.RawValue(message.data(), message.size(), rapidjson::kObjectType);
           } else {
             write_errored(w, problem);
           }
           w.EndObject();
           w.EndObject();
         }) +
         "\n";
}

std::string batch_store::render(const batch &b, std::string_view base_url) {
  static constexpr std::string_view names[] = {"in_progress", "canceling", "ended"};
  const bool ended = b.status == batch::state::ended;
  const auto processing = ended ? 0 : static_cast<std::int64_t>(b.requests.size());
  return write_json([&](json_writer &w) {
    w.StartObject();
    key(w, "id");
    put(w, b.id);
    key(w, "type");
    put(w, "message_batch");
    key(w, "processing_status");
    put(w, names[static_cast<int>(b.status)]);
    key(w, "request_counts");
    w.StartObject();
    key(w, "processing");
    w.Int64(processing);
    key(w, "succeeded");
    w.Int64(b.succeeded);
    key(w, "errored");
    w.Int64(b.errored);
    key(w, "canceled");
    w.Int64(b.canceled);
    key(w, "expired");
    w.Int64(0);
    w.EndObject();
    key(w, "ended_at");
    put_time(w, b.ended_at);
    key(w, "created_at");
    put(w, rfc3339(b.created_at));
    key(w, "expires_at");
    put(w, rfc3339(b.created_at + std::chrono::hours(24)));
    key(w, "archived_at");
    w.Null();
    key(w, "cancel_initiated_at");
    put_time(w, b.cancel_initiated_at);
    key(w, "results_url");
    if (ended)
      put(w, std::string(base_url) + "/v1/messages/batches/" + b.id + "/results");
    else
      w.Null();
    w.EndObject();
  });
}

// ---- Files -------------------------------------------------------------------------------

namespace {

void write_file(json_writer &w, const stored_file &f) {
  w.StartObject();
  key(w, "id");
  put(w, f.id);
  key(w, "type");
  put(w, "file");
  key(w, "filename");
  put(w, f.filename);
  key(w, "mime_type");
  put(w, f.mime_type);
  key(w, "size_bytes");
  w.Uint64(f.bytes->size());
  key(w, "created_at");
  put(w, rfc3339(f.created_at));
  key(w, "expires_at");
  put_time(w, f.expires_at);
  key(w, "downloadable");
  w.Bool(true);
  w.EndObject();
}

// The multipart parts of an upload, or the 400 that refuses it.
std::optional<std::vector<form_part>> form_parts(std::string_view body,
                                                 std::string_view content_type, outcome &refusal) {
  const auto boundary = multipart_boundary(content_type);
  if (!boundary) {
    refusal = outcome::failure(400, k_invalid,
                               "Content-Type must be multipart/form-data with a boundary");
    return std::nullopt;
  }
  std::string problem;
  auto parts = parse_multipart(body, *boundary, problem);
  if (!parts)
    refusal = outcome::failure(400, k_invalid, "Malformed multipart body: " + problem);
  return parts;
}

} // namespace

namespace {

// A whole positive number of seconds, as form fields carry it; nullopt otherwise.
std::optional<std::chrono::seconds> positive_seconds(std::string_view text) {
  text = trim(text);
  long seconds = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || ptr != text.data() + text.size() || seconds < 1)
    return std::nullopt;
  return std::chrono::seconds(seconds);
}

// Makes `body` hold only the part's bytes, shifted to its front in place (no second copy of
// an upload), and hands them over.
std::shared_ptr<const std::string> take_part(std::string &body, const form_part &part) {
  body.resize(part.offset + part.size);
  body.erase(0, part.offset);
  auto bytes = std::make_shared<const std::string>(std::move(body));
  body.clear();
  return bytes;
}

} // namespace

outcome file_store::upload(std::string &body, std::string_view content_type) {
  outcome refusal;
  const auto parts = form_parts(body, content_type, refusal);
  if (!parts)
    return refusal;
  stored_file f;
  f.created_at = std::chrono::system_clock::now();
  const form_part *file = nullptr;
  for (const auto &part : *parts) {
    if (part.name == "file" && !file) {
      file = &part;
    } else if (part.name == "expires_in_seconds") {
      const auto seconds = positive_seconds(part.bytes(body));
      if (!seconds)
        return outcome::failure(400, k_invalid,
                                "expires_in_seconds: Input should be a positive integer");
      f.expires_at = f.created_at + *seconds;
    }
  }
  if (!file)
    return outcome::failure(400, k_invalid, "file: Field required");
  if (!file->filename)
    return outcome::failure(400, k_invalid, "file: Expected an uploaded file, not a text field");

  f.id = "file_sim_" + std::to_string(++counter_);
  f.filename = file->filename->empty() ? "upload" : *file->filename;
  f.mime_type = media_type(file->content_type);
  if (f.mime_type.empty())
    f.mime_type = "application/octet-stream";
  f.bytes = take_part(body, *file); // `file` points into `parts`, not into the body: still valid
  f.sha256 = sha256_hex(*f.bytes);
  const stored_file &stored = files_.add(std::move(f));
  return outcome::success(write_json([&](json_writer &w) { write_file(w, stored); }));
}

outcome file_store::metadata(std::string_view id) const {
  const stored_file *f = files_.find(id);
  if (!f)
    return not_found("File", id);
  return outcome::success(write_json([&](json_writer &w) { write_file(w, *f); }));
}

outcome file_store::list(std::string_view query) const {
  const auto all = files_.newest_first();
  const auto ids = ids_of(all);
  std::string problem;
  const auto page = paginate(ids, query, 1000, problem);
  if (!page)
    return outcome::failure(400, k_invalid, std::move(problem));
  // Both cursor styles: older SDKs page files by after_id, newer ones by next_page.
  return outcome::success(
      page_json(ids, *page, first_last | next_page,
                [&](json_writer &w, std::size_t i) { write_file(w, *all[i]); }));
}

outcome file_store::remove(std::string_view id) {
  if (!files_.find(id))
    return not_found("File", id);
  files_.erase(id);
  return outcome::success(deleted_json(id, "file_deleted"));
}

const stored_file *file_store::downloadable(std::string_view id) const {
  const stored_file *f = files_.find(id);
  if (!f || (f->expires_at && *f->expires_at <= std::chrono::system_clock::now()))
    return nullptr;
  return f;
}

outcome file_store::digest(std::string_view id) const {
  const stored_file *f = files_.find(id);
  if (!f)
    return not_found("File", id);
  return outcome::success(write_json([&](json_writer &w) {
    w.StartObject();
    key(w, "sha256");
    put(w, f->sha256);
    key(w, "size_bytes");
    w.Uint64(f->bytes->size());
    w.EndObject();
  }));
}

// ---- Skills ------------------------------------------------------------------------------

namespace {

// The `name:` of a SKILL.md's YAML frontmatter, or "".
std::string frontmatter_name(std::string_view md) {
  if (!md.starts_with("---"))
    return {};
  std::size_t pos = md.find('\n');
  while (pos != std::string_view::npos) {
    const auto eol = md.find('\n', pos + 1);
    std::string_view line = md.substr(pos + 1, eol == std::string_view::npos ? eol : eol - pos - 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.starts_with("---"))
      break;
    if (line.starts_with("name:")) {
      std::string_view v = trim(line.substr(5));
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    pos = eol;
  }
  return {};
}

// The top-level directory all files share, which must hold SKILL.md; "" and `problem`
// otherwise.
std::string skill_directory(const std::vector<const form_part *> &files, std::string &problem) {
  std::string top;
  bool has_skill_md = false;
  for (const form_part *f : files) {
    const std::string_view name = *f->filename;
    const auto slash = name.find('/');
    const std::string_view dir = name.substr(0, slash);
    if (slash == std::string_view::npos || dir.empty() || (!top.empty() && dir != top)) {
      problem = "files: all files must be in the same top-level directory";
      return {};
    }
    top = std::string(dir);
    has_skill_md = has_skill_md || name.substr(slash + 1) == "SKILL.md";
  }
  if (!has_skill_md) {
    problem = "files: a SKILL.md file is required at the root of the top-level directory";
    return {};
  }
  return top;
}

time_point utc_date(int year, unsigned month, unsigned day) {
  using namespace std::chrono;
  return sys_days(std::chrono::year(year) / std::chrono::month(month) / std::chrono::day(day));
}

} // namespace

skill_store::skill_store() {
  const time_point released = utc_date(2025, 10, 16);
  // Added oldest first: lists show pdf, then xlsx, after any custom skill.
  skills_.add({"skill_sim_xlsx", "xlsx", "anthropic", "20251013", released});
  skills_.add({"skill_sim_pdf", "pdf", "anthropic", "20251013", released});
}

std::string skill_store::render(const skill &s) {
  return write_json([&](json_writer &w) {
    w.StartObject();
    key(w, "id");
    put(w, s.id);
    key(w, "type");
    put(w, "skill");
    key(w, "display_name");
    put(w, s.display_name);
    key(w, "source");
    w.StartObject();
    key(w, "type");
    put(w, s.source);
    w.EndObject();
    key(w, "latest_version_id");
    put(w, s.latest_version_id);
    key(w, "created_at");
    put(w, rfc3339(s.created_at));
    key(w, "updated_at");
    put(w, rfc3339(s.created_at));
    w.EndObject();
  });
}

outcome skill_store::create(std::string_view body, std::string_view content_type) {
  outcome refusal;
  const auto parts = form_parts(body, content_type, refusal);
  if (!parts)
    return refusal;
  std::vector<const form_part *> files;
  std::string display_name;
  for (const auto &part : *parts) {
    if ((part.name == "files[]" || part.name == "files") && part.filename) {
      files.push_back(&part);
    } else if (part.name == "display_name") {
      display_name = std::string(trim(part.bytes(body)));
    }
  }
  if (files.empty())
    return outcome::failure(400, k_invalid, "files: Field required");
  std::string problem;
  const std::string top = skill_directory(files, problem);
  if (top.empty())
    return outcome::failure(400, k_invalid, std::move(problem));
  if (display_name.size() > 255 || display_name.find('\n') != std::string::npos)
    return outcome::failure(400, k_invalid,
                            "display_name: must be a single line of at most 255 characters");
  if (display_name.empty()) // from the root SKILL.md's frontmatter, as the API derives it
    for (const form_part *f : files)
      if (*f->filename == top + "/SKILL.md")
        display_name = frontmatter_name(f->bytes(body));
  if (display_name.empty())
    display_name = top;

  skill s;
  s.id = "skill_sim_" + std::to_string(++counter_);
  s.display_name = std::move(display_name);
  s.source = "custom";
  s.created_at = std::chrono::system_clock::now();
  // A version id is the creation time in microseconds, as the API's custom versions are.
  s.latest_version_id = std::to_string(
      std::chrono::duration_cast<std::chrono::microseconds>(s.created_at.time_since_epoch())
          .count());
  const skill &stored = skills_.add(std::move(s));
  return outcome::success(render(stored));
}

outcome skill_store::retrieve(std::string_view id) const {
  const skill *s = skills_.find(id);
  if (!s)
    return not_found("Skill", id);
  return outcome::success(render(*s));
}

outcome skill_store::list(std::string_view query) const {
  // ?source=custom|anthropic narrows the list before paging.
  std::vector<const skill *> shown;
  const auto source = query_param(query, "source");
  for (const skill *s : skills_.newest_first())
    if (!source || source->empty() || s->source == *source)
      shown.push_back(s);
  const auto ids = ids_of(shown);
  std::string problem;
  const auto page = paginate(ids, query, 100, problem);
  if (!page)
    return outcome::failure(400, k_invalid, std::move(problem));
  return outcome::success(page_json(ids, *page, next_page, [&](json_writer &w, std::size_t i) {
    const std::string one = render(*shown[i]);
    w.RawValue(one.data(), one.size(), rapidjson::kObjectType);
  }));
}

outcome skill_store::remove(std::string_view id) {
  const skill *s = skills_.find(id);
  if (!s)
    return not_found("Skill", id);
  if (s->source != "custom")
    return outcome::failure(400, k_invalid, "Anthropic skills cannot be deleted");
  skills_.erase(id);
  return outcome::success(deleted_json(id, "skill_deleted"));
}

} // namespace sim
