#include "io/token_client.hpp"

#include "core/clock.hpp"
#include "io/json_post.hpp"

namespace proxy {

token_client::token_client(net::any_io_executor executor,
                           std::shared_ptr<const upstream_target> target, std::string client_id,
                           std::chrono::milliseconds connect_timeout, std::chrono::seconds timeout)
    : executor_(std::move(executor)), target_(std::move(target)), client_id_(std::move(client_id)),
      connect_timeout_(connect_timeout), timeout_(timeout) {}

void token_client::refresh(std::string refresh_token, std::function<void(refresh_outcome)> done) {
  net::co_spawn(executor_, exchange(std::move(refresh_token)),
                [done = std::move(done)](std::exception_ptr e, refresh_outcome outcome) {
                  if (e)
                    outcome = refresh_failure{false, "token refresh failed unexpectedly", {}};
                  done(std::move(outcome));
                });
}

task<refresh_outcome> token_client::exchange(std::string refresh_token) {
  auto reply =
      co_await post_json(executor_, target_, refresh_request_body(refresh_token, client_id_),
                         connect_timeout_, timeout_);
  if (reply.error)
    co_return refresh_failure{false, "token endpoint " + *reply.error, {}};
  co_return parse_refresh_response(reply.status, reply.body, reply.retry_after, refresh_token,
                                   unix_now_ms());
}

sync_client::sync_client(net::any_io_executor executor,
                         std::shared_ptr<const upstream_target> target,
                         std::chrono::milliseconds connect_timeout, std::chrono::seconds timeout)
    : executor_(std::move(executor)), target_(std::move(target)), connect_timeout_(connect_timeout),
      timeout_(timeout) {}

void sync_client::store(std::string credentials_json, std::function<void(std::string)> done) {
  net::co_spawn(
      executor_,
      post_json(executor_, target_, std::move(credentials_json), connect_timeout_, timeout_),
      [done = std::move(done)](std::exception_ptr e, json_post_reply reply) {
        if (e)
          return done("credential sync failed unexpectedly");
        if (reply.error)
          return done("credential sync " + *reply.error);
        if (reply.status / 100 != 2)
          return done("credential sync answered " + std::to_string(reply.status));
        done({});
      });
}

} // namespace proxy
