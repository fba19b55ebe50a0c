#pragma once
// The credential actor: the one owner of the upstream credential. It hands out the header to
// send, refreshes OAuth tokens one at a time (every waiter gets the one result), persists each
// rotated pair before using it, and reports its state for /health.
#include "actors/messages.hpp"
#include "auth/credential_sink.hpp"
#include "auth/token_endpoint.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace proxy {

struct credential_setup {
  enum class kind { api_key, oauth, bearer, simulator } type = kind::api_key;
  std::string secret;  ///< the API key or static bearer token
  oauth_tokens tokens; ///< for oauth
  /// The credentials file that is re-read before and rewritten after each refresh; empty keeps
  /// rotated tokens in memory only (credentials given through the environment).
  std::string store_path;
  /// The credentials JSON as it was given (CLAUDE_OAUTH_CREDS), so rewrites keep its other keys.
  std::string source_json;
  std::chrono::seconds refresh_margin{300};
  std::shared_ptr<token_endpoint> endpoint;
  /// Where rotated pairs must be stored before use, besides the file; may be null.
  std::shared_ptr<credential_sink> sink;
  std::function<std::int64_t()> now_ms; ///< wall clock in epoch milliseconds (tests fake it)
};

struct credential_state {
  credential_setup setup;
  bool refreshing = false; ///< a grant, or the storing of its result, is under way
  int sync_attempts = 0;
  bool unsynced = false;        ///< the sink has not yet stored the current pair
  std::uint64_t generation = 0; ///< bumped by pushed credentials; a refresh of an older one is moot
  bool needs_login = false;
  std::int64_t retry_at_ms = 0; ///< no refresh before this (backoff after a failure)
  std::chrono::seconds backoff{0};
  std::int64_t last_refresh_ms = 0;
  std::string last_error;
  int refreshes = 0;
  std::vector<caf::response_promise> waiters;
  static inline const char *name = "credential";
};

caf::behavior credential_actor(caf::stateful_actor<credential_state> *self, credential_setup setup);

} // namespace proxy
