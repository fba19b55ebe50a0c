#include "http/json_post.hpp"

#include "http/upstream_connection.hpp"

namespace proxy {

task<json_post_reply> post_json(net::any_io_executor executor, const endpoint_url &url,
                                std::shared_ptr<ssl::context> tls, std::string body,
                                std::chrono::milliseconds connect_timeout,
                                std::chrono::seconds timeout) {
  json_post_reply reply;
  auto conn = std::make_shared<upstream_connection>(executor, url, tls, 0, 0);
  if (auto err = co_await conn->connect(connect_timeout)) {
    reply.error = "unreachable: " + err->message;
    co_return reply;
  }
  http::request<http::string_body> req{http::verb::post, url.target(""), 11};
  if (req.target().empty())
    req.target("/");
  req.set(http::field::host, url.host_header());
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  req.keep_alive(false);
  conn->tcp().expires_after(timeout);
  auto [wec, wn] =
      co_await conn->with_stream([&](auto &s) { return http::async_write(s, req, use_tuple); });
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024);
  error_code ec = wec;
  if (!ec)
    std::tie(ec, std::ignore) = co_await conn->with_stream(
        [&](auto &s) { return http::async_read(s, conn->buffer(), parser, use_tuple); });
  conn->close();
  if (ec) {
    reply.error = ec == beast::error::timeout ? "timed out" : "failed: " + ec.message();
    co_return reply;
  }
  const auto &res = parser.get();
  reply.status = res.result_int();
  reply.body = res.body();
  reply.retry_after = std::string(res[http::field::retry_after]);
  co_return reply;
}

} // namespace proxy
