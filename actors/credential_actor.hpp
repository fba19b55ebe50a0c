#pragma once
// The credential actor: the one owner of the upstream credential. It publishes the token to use
// on the token board, refreshes OAuth tokens one at a time (every waiter gets the one result),
// has the store actor persist each rotated pair before it is used, and reports its state for
// /health.
#include "actors/protocol.hpp"
#include "actors/token_board.hpp"
#include "auth/credential_sink.hpp"
#include "auth/token_endpoint.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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
  /// Does the file work on store_path; needed when it is set.
  store_actor store;
  /// Where the current token is published for sessions; may be null.
  std::shared_ptr<token_board> board;
  std::function<std::int64_t()> now_ms; ///< wall clock in epoch milliseconds (tests fake it)
};

struct credential_state {
  credential_setup setup;
  bool refreshing = false; ///< a refresh (re-read, grant, store, sync) is under way
  int sync_attempts = 0;
  bool unsynced = false;        ///< the sink has not yet stored the current pair
  std::string stored_json;      ///< the credentials document of the current pair, for the sink
  std::uint64_t generation = 0; ///< bumped by pushed credentials; a refresh of an older one is moot
  bool needs_login = false;
  bool draining = false;        ///< shutting down: no refresh starts
  std::int64_t retry_at_ms = 0; ///< no refresh before this (backoff after a failure)
  std::chrono::seconds backoff{0};
  std::int64_t last_refresh_ms = 0;
  std::string last_error;
  int refreshes = 0;
  int refresh_failures = 0; ///< grants the token endpoint refused or that did not complete
  std::vector<caf::typed_response_promise<token_reply>> waiters;
  static inline const char *name = "credential";
};

credential_actor::behavior_type
credential_behavior(credential_actor::stateful_pointer<credential_state> self,
                    credential_setup setup);

} // namespace proxy
