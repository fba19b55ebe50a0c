#pragma once
// A stand-in for the Anthropic API (Messages, count_tokens, models, Message Batches, Files,
// Skills, OAuth token endpoint) with fault injection, used to test the proxy against realistic
// upstream behaviour. Test-only endpoints: POST /_sim/credentials, GET /_sim/files/{id}
// ({"sha256","size_bytes"} of an uploaded file).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sim {

struct tls_files {
  std::string cert_chain_file;
  std::string private_key_file;
};

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;       // 0 = pick a free port
  std::optional<tls_files> tls; // set = serve HTTPS
  std::string api_key; // x-api-key accepted on /v1/*; empty = any non-empty x-api-key is accepted
  std::chrono::milliseconds event_delay{0}; // delay between SSE events
  int text_chunks = 4;                      // number of text_delta events for a text block
  std::size_t chunk_size = 12;              // characters per text_delta
  std::chrono::seconds access_token_lifetime{3600};
  bool record = true; // keep every request and response for requests(); off for long runs
  // Faults drawn at random for Messages requests that ask for none: each is an x-sim-fault value
  // and the probability of drawing it (for soak runs).
  std::vector<std::pair<std::string, double>> random_faults;
};

struct recorded_request {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers; // names lower-cased, in arrival order
  std::string body;
  // The response body bytes as they were sent (for a stream: the SSE events, de-chunked).
  std::string response_body;
  // "" when absent; repeated headers joined with ", "
  std::string header(std::string_view name) const;
};

class server {
public:
  explicit server(options opts);
  ~server(); // stops
  server(const server &) = delete;
  server &operator=(const server &) = delete;

  void start(); // binds, runs its own io_context on one background thread
  void stop();
  std::uint16_t port() const;   // valid after start()
  std::string base_url() const; // "http://127.0.0.1:PORT" or "https://..." (host as given)

  // OAuth: create a valid refresh token / access token pair the tests can hand to the proxy.
  struct token_pair {
    std::string access_token, refresh_token;
    std::int64_t expires_at_ms;
  };
  token_pair issue_tokens(std::chrono::seconds access_lifetime);
  void expire_access_tokens(); // every issued access token becomes expired (401 on use)

  std::vector<recorded_request> requests() const; // everything received, in order
  void clear_requests();
  int refresh_count() const; // successful refresh_token grants so far
  int connections_accepted() const;
  int connections_closed() const; // sessions ended: peer closed/reset, error, or closed by us

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sim
