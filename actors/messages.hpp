#pragma once
// The messages actors exchange. Errors travel inside replies as values, so every requester gets
// an answer it can turn into an Anthropic-shaped error.
#include "auth/oauth.hpp"
#include "http/api_error.hpp"
#include "http/header_policy.hpp"
#include "http/relay.hpp"
#include "http/upstream_connection.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace proxy {

using get_token_atom = caf::atom_constant<caf::atom("get_token")>; ///< -> token_reply
using refresh_atom = caf::atom_constant<caf::atom("refresh")>; ///< (rejected token) -> token_reply
using refreshed_atom = caf::atom_constant<caf::atom("refreshed")>; ///< internal: grant finished
using status_atom = caf::atom_constant<caf::atom("status")>;
using lease_atom = caf::atom_constant<caf::atom("lease")>;     ///< (worker) -> lease_reply
using release_atom = caf::atom_constant<caf::atom("release")>; ///< (connection, reusable)
using synced_atom = caf::atom_constant<caf::atom("synced")>;   ///< internal: (error or "")
using replace_atom = caf::atom_constant<caf::atom("replace")>; ///< (oauth_tokens) -> token_reply
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using relay_done_atom = caf::atom_constant<caf::atom("relaydone")>;
using written_atom = caf::atom_constant<caf::atom("written")>;

struct token_reply {
  bool ok = false;
  upstream_auth auth;
  bool refreshable = false; ///< an upstream 401 is worth one refresh and retry
  api_error error;
};

struct credential_status {
  std::string kind;  ///< api_key, oauth, bearer, simulator
  std::string state; ///< ok, refreshing, backoff, needs_login
  std::string store; ///< where rotated tokens go: file, memory, none
  std::optional<std::int64_t> expires_in_s;
  std::int64_t last_refresh_ms = 0; ///< 0 = never
  std::string last_error;
  int refreshes = 0;
  bool usable = true; ///< requests can be served with it (else /health answers 503)
};

struct lease_reply {
  bool ok = false;
  std::shared_ptr<upstream_connection> connection;
  api_error error;
};

struct pool_status {
  std::size_t open = 0, idle = 0, busy = 0, waiting = 0, max = 0;
};

} // namespace proxy

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::token_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::credential_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::lease_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::pool_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::refresh_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::oauth_tokens)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::relay_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<proxy::upstream_connection>)
