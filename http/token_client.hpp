#pragma once
// The real token endpoint and credential sync: JSON POSTs over HTTPS (HTTP for local peers).
#include "auth/credential_sink.hpp"
#include "auth/token_endpoint.hpp"
#include "http/net.hpp"
#include "http/url.hpp"

#include <chrono>
#include <memory>

namespace proxy {

class token_client : public token_endpoint {
public:
  token_client(net::any_io_executor executor, endpoint_url url, std::shared_ptr<ssl::context> tls,
               std::string client_id, std::chrono::milliseconds connect_timeout,
               std::chrono::seconds timeout);

  void refresh(std::string refresh_token, std::function<void(refresh_outcome)> done) override;

private:
  task<refresh_outcome> exchange(std::string refresh_token);

  net::any_io_executor executor_;
  endpoint_url url_;
  std::shared_ptr<ssl::context> tls_;
  std::string client_id_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::seconds timeout_;
};

/// Stores rotated credentials by POSTing the Claude Code JSON to a URL (at the edge: the
/// container's own Durable Object, through outbound interception). Any 2xx means stored.
class sync_client : public credential_sink {
public:
  sync_client(net::any_io_executor executor, endpoint_url url, std::shared_ptr<ssl::context> tls,
              std::chrono::milliseconds connect_timeout, std::chrono::seconds timeout);

  void store(std::string credentials_json, std::function<void(std::string)> done) override;

private:
  net::any_io_executor executor_;
  endpoint_url url_;
  std::shared_ptr<ssl::context> tls_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::seconds timeout_;
};

/// Milliseconds since the Unix epoch.
std::int64_t unix_now_ms();

} // namespace proxy
