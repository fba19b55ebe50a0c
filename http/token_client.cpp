#include "http/token_client.hpp"

#include "http/upstream_connection.hpp"

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
  auto conn = std::make_shared<upstream_connection>(executor_, url_, tls_, 0, 0);
  if (auto err = co_await conn->connect(connect_timeout_))
    co_return refresh_failure{false, "token endpoint unreachable: " + err->message, {}};
  http::request<http::string_body> req{http::verb::post, url_.target(""), 11};
  if (req.target().empty())
    req.target("/");
  req.set(http::field::host, url_.host_header());
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  req.body() = refresh_request_body(refresh_token, client_id_);
  req.prepare_payload();
  req.keep_alive(false);
  conn->tcp().expires_after(timeout_);
  auto [wec, wn] =
      co_await conn->with_stream([&](auto &s) { return http::async_write(s, req, use_tuple); });
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024);
  error_code ec = wec;
  if (!ec)
    std::tie(ec, std::ignore) = co_await conn->with_stream(
        [&](auto &s) { return http::async_read(s, conn->buffer(), parser, use_tuple); });
  conn->close();
  if (ec)
    co_return refresh_failure{false,
                              std::string("token endpoint ") + (ec == beast::error::timeout
                                                                    ? "timed out"
                                                                    : "failed: " + ec.message()),
                              {}};
  const auto &res = parser.get();
  co_return parse_refresh_response(res.result_int(), res.body(), res[http::field::retry_after],
                                   refresh_token, unix_now_ms());
}

} // namespace proxy
