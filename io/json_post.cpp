#include "io/json_post.hpp"

#include <array>

namespace proxy {

task<json_post_reply> post_json(net::any_io_executor executor,
                                std::shared_ptr<const upstream_target> target, std::string body,
                                std::chrono::milliseconds connect_timeout,
                                std::chrono::seconds timeout) {
  json_post_reply reply;
  auto conn = std::make_shared<upstream_connection>(executor, target, 0, 0);
  if (auto err = co_await conn->connect(connect_timeout)) {
    reply.error = "unreachable: " + err->message;
    co_return reply;
  }
  const auto &url = target->url;
  std::string head = "POST " + (url.base_path.empty() ? std::string("/") : url.base_path) +
                     " HTTP/1.1\r\nHost: " + url.host_header() +
                     "\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                     "Connection: close\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  auto deadline = steady_clock::now() + timeout;
  std::array<net::const_buffer, 2> request{net::buffer(head), net::buffer(body)};
  auto ec = co_await conn->write_all(request, deadline);

  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024);
  std::string pending; // bytes the parser has not taken yet
  std::array<char, 4096> buf;
  while (!ec && !parser.is_done()) {
    auto r = co_await conn->read(buf, deadline);
    if (r.ec == net::error::eof && parser.got_some() && !parser.is_done()) {
      parser.put_eof(ec); // a body that ends with the connection
      break;
    }
    ec = r.ec;
    if (ec)
      break;
    pending.append(buf.data(), r.bytes);
    while (!pending.empty() && !parser.is_done()) {
      error_code pec;
      auto used = parser.put(net::buffer(pending), pec);
      pending.erase(0, used);
      if (pec == http::error::need_more)
        break;
      if (pec) {
        ec = pec;
        break;
      }
    }
  }
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
