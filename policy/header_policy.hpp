#pragma once
// Which headers cross the proxy in each direction, and the HTTP/1.1 heads it writes. Pure
// functions over header maps; every one is linear in the number of headers.
#include "policy/api_error.hpp"
#include "policy/upstream_auth.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <ostream> // boost/core/detail/string_view.hpp needs it

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace proxy {

namespace http = boost::beast::http;

/// True for headers that describe one hop rather than the message (RFC 9110 7.6.1).
bool is_hop_by_hop(std::string_view name);

/// A header the upstream sends about its rate limits (anthropic-ratelimit-*).
bool is_rate_limit_header(std::string_view name);

/// The request head that goes upstream: start line, Host, the client's end-to-end headers
/// unchanged, our credential, and Content-Length when there is a body (or, for a body streamed
/// as it arrives without a known length, Transfer-Encoding: chunked). Dropped: hop-by-hop
/// headers (and those the client's Connection header names), host, content-length, cookies,
/// accept-encoding (we must read what we relay), expect (we answered 100-continue ourselves) and
/// the client's own credentials. For OAuth the beta flag is merged into the client's
/// anthropic-beta list; anthropic-version is added only when the client sent none.
std::string upstream_request_head(http::verb method, std::string_view target, std::string_view host,
                                  const http::fields &client, const upstream_auth &auth,
                                  std::optional<std::uint64_t> content_length,
                                  bool chunked = false);

/// How the client reached the proxy, e.g. "https://proxy.example": X-Forwarded-Proto (https or
/// http) and Host. For messages that name the proxy's own URLs.
std::string client_origin(const http::fields &client);

/// How a response body is delimited on the client connection.
enum class body_framing {
  none,    ///< no body (204, 304, HEAD)
  length,  ///< Content-Length
  chunked, ///< Transfer-Encoding: chunked
  close,   ///< the end of the connection ends the body (HTTP/1.0 clients)
};

/// The start line of a response, e.g. "HTTP/1.1 529 Overloaded\r\n".
void append_status_line(std::string &out, unsigned version, unsigned status,
                        std::string_view reason = {});

/// "name: value\r\n"
void append_field(std::string &out, std::string_view name, std::string_view value);

/// The upstream's response headers as they go to the client: everything end-to-end except
/// framing and cookies (the proxy sets its own framing).
void append_response_headers(std::string &out, const http::fields &upstream);

/// Framing and connection headers, then the blank line that ends the head.
void end_response_head(std::string &out, unsigned version, body_framing framing,
                       std::uint64_t length, bool keep_alive);

/// Every anthropic-beta value (repeated headers and comma lists) with `extra` added once.
std::string merge_betas(const http::fields &client, std::string_view extra);

/// Does the client present `key`, as x-api-key or as a Bearer token, and no other credential?
/// Every x-api-key and Authorization header must carry it: credentials that disagree are
/// refused as ambiguous. Compared in constant time.
bool client_key_matches(const http::fields &client, std::string_view key);

/// RFC 9112 3.2 and RFC 3986 3.2.2: host [":" port], host a reg-name or an IP literal.
bool valid_host(std::string_view host);

/// 400 for a request with two Host headers, an invalid one, or none in HTTP/1.1.
std::optional<api_error> host_error(const http::fields &request, unsigned version);

/// Constant-time equality for secrets.
bool secure_equals(std::string_view a, std::string_view b);

} // namespace proxy
