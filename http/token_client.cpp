#include "http/token_client.hpp"

#include "http/json_post.hpp"

namespace proxy {

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

token_client::token_client(net::any_io_executor executor, endpoint_url url,
                           std::shared_ptr<ssl::context> tls, std::string client_id,
                           std::chrono::milliseconds connect_timeout, std::chrono::seconds timeout)
    : executor_(std::move(executor)), url_(std::move(url)), tls_(std::move(tls)),
      client_id_(std::move(client_id)), connect_timeout_(connect_timeout), timeout_(timeout) {}

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
      co_await post_json(executor_, url_, tls_, refresh_request_body(refresh_token, client_id_),
                         connect_timeout_, timeout_);
  if (reply.error)
    co_return refresh_failure{false, "token endpoint " + *reply.error, {}};
  co_return parse_refresh_response(reply.status, reply.body, reply.retry_after, refresh_token,
                                   unix_now_ms());
}

sync_client::sync_client(net::any_io_executor executor, endpoint_url url,
                         std::shared_ptr<ssl::context> tls,
                         std::chrono::milliseconds connect_timeout, std::chrono::seconds timeout)
    : executor_(std::move(executor)), url_(std::move(url)), tls_(std::move(tls)),
      connect_timeout_(connect_timeout), timeout_(timeout) {}

void sync_client::store(std::string credentials_json, std::function<void(std::string)> done) {
  net::co_spawn(
      executor_,
      post_json(executor_, url_, tls_, std::move(credentials_json), connect_timeout_, timeout_),
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
