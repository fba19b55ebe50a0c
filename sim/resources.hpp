#pragma once
// The simulator's stateful resources: Message Batches, Files and Skills, kept in memory and
// answered in the shapes of the public API reference. Nothing here does I/O: the server routes
// requests to these stores (on its one thread, so they need no locks) and sends their answers.

#include "sim/scenarios.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sim {

using time_point = std::chrono::system_clock::time_point;

// A store's answer: the JSON body of a 200, or an Anthropic error that the server renders with
// its request id.
struct outcome {
  int status = 200;
  std::string body;       // status 200: the JSON to send
  std::string error_type; // otherwise: the Anthropic error type and message
  std::string message;
  bool ok() const { return status == 200; }
  static outcome success(std::string body);
  static outcome failure(int status, std::string_view type, std::string message);
};

// The raw value of `name` in a query string ("a=1&b=2"); nullopt when absent.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);
// RFC 3339 in UTC with microseconds, like the API's timestamps ("2024-08-20T18:37:24.100435Z").
std::string rfc3339(time_point t);
// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view bytes);
// "attachment; filename*=utf-8''<percent-encoded name>" (RFC 6266), safe for any name.
std::string attachment_disposition(std::string_view filename);

// Keeps records (each with a string `id`) in creation order with an index by id; lists come
// newest first.
template <class T> class ordered_records {
public:
  T &add(T record) {
    index_[record.id] = ++last_;
    return records_.emplace(last_, std::move(record)).first->second;
  }
  T *find(std::string_view id) {
    auto it = index_.find(std::string(id));
    return it == index_.end() ? nullptr : &records_.at(it->second);
  }
  const T *find(std::string_view id) const { return const_cast<ordered_records *>(this)->find(id); }
  void erase(std::string_view id) {
    auto it = index_.find(std::string(id));
    if (it == index_.end())
      return;
    records_.erase(it->second);
    index_.erase(it);
  }
  std::vector<const T *> newest_first() const {
    std::vector<const T *> out;
    out.reserve(records_.size());
    for (auto it = records_.rbegin(); it != records_.rend(); ++it)
      out.push_back(&it->second);
    return out;
  }

private:
  std::uint64_t last_ = 0;
  std::map<std::uint64_t, T> records_;
  std::unordered_map<std::string, std::uint64_t> index_;
};

// Message Batches. A batch is created in_progress and processed at once the first time it is
// retrieved; a cancel takes effect the next time the batch is touched. Results are the
// messages a non-streamed /v1/messages gives for each request's params.
class batch_store {
public:
  // `shape` sets the text size of result messages (text_chunks, chunk_size).
  explicit batch_store(scenario_params shape) : shape_(std::move(shape)) {}

  outcome create(std::string_view body);
  // `base_url` ("http://host:port") prefixes results_url.
  outcome retrieve(std::string_view id, std::string_view base_url);
  outcome list(std::string_view query, std::string_view base_url) const;
  outcome cancel(std::string_view id, std::string_view base_url);
  outcome remove(std::string_view id);
  // An ended batch's results as JSONL, in pieces of about 64 KiB for chunked sending.
  outcome results(std::string_view id, std::vector<std::string> &pieces);

private:
  struct request {
    std::string custom_id;
    std::string params; // the JSON object as sent
  };
  struct batch {
    enum class state { in_progress, canceling, ended };
    std::string id;
    std::vector<request> requests;
    state status = state::in_progress;
    time_point created_at;
    std::optional<time_point> ended_at, cancel_initiated_at;
    std::int64_t succeeded = 0, errored = 0, canceled = 0;
    std::vector<std::string> lines; // the JSONL result lines once ended
  };

  void finish(batch &b);
  std::string message_for(const request &r, const message_request &m);
  std::string result_line(const request &r, bool canceled, std::int64_t &succeeded,
                          std::int64_t &errored);
  static std::string render(const batch &b, std::string_view base_url);

  scenario_params shape_;
  ordered_records<batch> batches_;
  std::uint64_t batch_counter_ = 0, message_counter_ = 0;
};

// An uploaded file: its metadata and bytes. The bytes are shared so that a download in progress
// outlives a delete.
struct stored_file {
  std::string id, filename, mime_type, sha256;
  time_point created_at;
  std::optional<time_point> expires_at;
  std::shared_ptr<const std::string> bytes;
};

// Files (beta). Uploaded files are downloadable, a liberty of the simulator so downloads can be
// tested (the API allows downloads only of files that skills or tools created).
class file_store {
public:
  // Takes the multipart body apart; the file part's bytes are moved out of `body`.
  outcome upload(std::string &body, std::string_view content_type);
  outcome metadata(std::string_view id) const;
  outcome list(std::string_view query) const;
  outcome remove(std::string_view id);
  // The file for a download, or nullptr when unknown or expired.
  const stored_file *downloadable(std::string_view id) const;
  // {"sha256":..,"size_bytes":..} for /_sim/files/{id}: did the bytes arrive intact?
  outcome digest(std::string_view id) const;

private:
  ordered_records<stored_file> files_;
  std::uint64_t counter_ = 0;
};

// Skills (beta): two built-in Anthropic skills and the custom ones created here. Versions are
// not modelled: latest_version_id names the only version.
class skill_store {
public:
  skill_store();
  outcome create(std::string_view body, std::string_view content_type);
  outcome retrieve(std::string_view id) const;
  outcome list(std::string_view query) const;
  outcome remove(std::string_view id);

private:
  struct skill {
    std::string id, display_name, source, latest_version_id;
    time_point created_at;
  };
  static std::string render(const skill &s);

  ordered_records<skill> skills_;
  std::uint64_t counter_ = 0;
};

} // namespace sim
