#pragma once
// The real token endpoint and credential sink: HTTPS calls made on a network thread, reported
// back through callbacks (the credential actor turns them into messages).
#include "auth/credential_sink.hpp"
#include "auth/token_endpoint.hpp"
#include "io/net.hpp"
#include "io/upstream_connection.hpp"

#include <chrono>
#include <memory>

namespace proxy {

class token_client : public token_endpoint {
public:
  token_client(net::any_io_executor executor, std::shared_ptr<const upstream_target> target,
               std::string client_id, std::chrono::milliseconds connect_timeout,
               std::chrono::seconds timeout);

  void refresh(std::string refresh_token, std::function<void(refresh_outcome)> done) override;

private:
  task<refresh_outcome> exchange(std::string refresh_token);

  net::any_io_executor executor_;
  std::shared_ptr<const upstream_target> target_;
  std::string client_id_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::seconds timeout_;
};

/// Stores rotated credentials by POSTing the Claude Code JSON to a URL (at the edge: the
/// container's own Durable Object, through outbound interception). Any 2xx means stored.
class sync_client : public credential_sink {
public:
  sync_client(net::any_io_executor executor, std::shared_ptr<const upstream_target> target,
              std::chrono::milliseconds connect_timeout, std::chrono::seconds timeout);

  void store(std::string credentials_json, std::function<void(std::string)> done) override;

private:
  net::any_io_executor executor_;
  std::shared_ptr<const upstream_target> target_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::seconds timeout_;
};

} // namespace proxy
