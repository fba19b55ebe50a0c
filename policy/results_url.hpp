#pragma once
// The one change the proxy makes to an answer's body: a Message Batch's results_url names the
// upstream's origin, and the official SDKs fetch that absolute URL with the client's own headers
// (the proxy key), so it must name the proxy instead. Pure.
#include <optional>
#include <string>
#include <string_view>

namespace proxy {

/// A Message Batch answer (one batch, or a list under "data") with every results_url that is an
/// absolute URL to /v1/messages/batches/... moved to `origin` ("http://host:port"), path and
/// query kept. None when there is nothing to change or the body is not such JSON: the answer
/// then goes to the client as it came.
std::optional<std::string> rewrite_results_urls(std::string_view json, std::string_view origin);

} // namespace proxy
