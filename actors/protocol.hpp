#pragma once
// Every actor's interface, as a caf::typed_actor: a wrong message or reply type is a compile
// error. Errors travel inside replies as values, so every requester gets an answer it can turn
// into an Anthropic-shaped error. Plain data only: no networking headers come in through here.
#include "auth/oauth.hpp"
#include "io/relay_outcome.hpp"
#include "policy/api_error.hpp"
#include "policy/upstream_auth.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace proxy {

class upstream_connection;
struct incoming_request;

using get_token_atom = caf::atom_constant<caf::atom("get_token")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using refreshed_atom = caf::atom_constant<caf::atom("refreshed")>;
using replace_atom = caf::atom_constant<caf::atom("replace")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using synced_atom = caf::atom_constant<caf::atom("synced")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using lease_atom = caf::atom_constant<caf::atom("lease")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using save_atom = caf::atom_constant<caf::atom("save")>;
using unlock_atom = caf::atom_constant<caf::atom("unlock")>;
using relay_done_atom = caf::atom_constant<caf::atom("relaydone")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using written_atom = caf::atom_constant<caf::atom("written")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;

// -- the credential actor ---------------------------------------------------------------------

struct token_reply {
  bool ok = false;
  upstream_auth auth;
  bool refreshable = false; ///< an upstream 401 is worth one refresh and retry
  api_error error;
};

struct credential_status {
  std::string kind;  ///< api_key, oauth, bearer, simulator
  std::string state; ///< ok, refreshing, backoff, expired, needs_login
  std::string store; ///< where rotated tokens go: file, memory, none
  std::optional<std::int64_t> expires_in_s;
  std::int64_t last_refresh_ms = 0; ///< 0 = never
  std::string last_error;
  int refreshes = 0;
  int refresh_failures = 0;
  bool usable = true; ///< requests can be served with it (else /health answers 503)
};

/// The one owner of the upstream credential.
using credential_actor = caf::typed_actor<
    /// A token fresh enough to use; refreshes first when it is due.
    caf::replies_to<get_token_atom>::with<token_reply>,
    /// The upstream rejected this token: refresh (once, however many ask) unless already done.
    caf::replies_to<refresh_atom, std::string>::with<token_reply>,
    /// Freshly logged-in credentials pushed by the user replace ours.
    caf::replies_to<replace_atom, oauth_tokens>::with<token_reply>,
    /// A rotated API key replaces ours, for requests from now on (those in flight keep theirs).
    caf::replies_to<replace_atom, std::string>::with<token_reply>,
    caf::replies_to<status_atom>::with<credential_status>,
    /// The proxy is shutting down: no refresh starts from now on.
    caf::reacts_to<drain_atom>,
    /// Internal: a grant finished (generation, outcome).
    caf::reacts_to<refreshed_atom, std::uint64_t, refresh_outcome>,
    /// Internal: the sink stored a pair, or said why not (generation, error or "").
    caf::reacts_to<synced_atom, std::uint64_t, std::string>,
    /// Internal: retry storing a pair the sink refused.
    caf::reacts_to<tick_atom>>;

// -- the credential store actor ---------------------------------------------------------------

struct file_reply {
  bool ok = false;
  bool locked = false; ///< the lock is held (until the save or unlock that follows)
  std::string text;    ///< the file's content
  std::string error;   ///< why it could not be locked or read
};

struct save_reply {
  std::string error; ///< empty when stored
  std::string json;  ///< the credentials document written (other keys kept)
};

/// The credentials file: blocking work (locks, reads, durable writes with fsync), on a thread of
/// its own.
using store_actor = caf::typed_actor<
    /// Takes the lock beside the file (waiting a bounded time for another process), then reads
    /// the file. The lock is held until the next save or unlock.
    caf::replies_to<load_atom>::with<file_reply>,
    /// Writes tokens into the file durably, keeping its other keys; `base` is the document to
    /// start from when the file cannot be read. Then releases the lock.
    caf::replies_to<save_atom, oauth_tokens, std::string>::with<save_reply>,
    /// Releases the lock, if held (a refresh that wrote nothing).
    caf::reacts_to<unlock_atom>>;

// -- the upstream pool actors (one per network thread) ----------------------------------------

struct lease_reply {
  bool ok = false;
  std::shared_ptr<upstream_connection> connection;
  api_error error;
};

struct pool_status {
  std::size_t open = 0, idle = 0, busy = 0, max = 0;
};

using pool_actor = caf::typed_actor<
    /// A connection to use: an idle one, or a new one while under the capacity; else 529 at once.
    /// Always answered from the handler, never through a promise.
    caf::replies_to<lease_atom>::with<lease_reply>,
    /// A connection back; kept for reuse only when its last response ended cleanly.
    caf::reacts_to<release_atom, std::shared_ptr<upstream_connection>, bool>,
    caf::replies_to<status_atom>::with<pool_status>,
    /// Internal: close connections idle too long.
    caf::reacts_to<tick_atom>>;

// -- the session actors (one per request) -----------------------------------------------------

using session_actor = caf::typed_actor<
    /// The request to serve. Sessions are spawned ahead of their request (one waits on each
    /// network thread), so spawning is not on the request's path.
    caf::reacts_to<start_atom, std::shared_ptr<incoming_request>>,
    /// The relay finished: what happened, and the connection to give back.
    caf::reacts_to<relay_done_atom, relay_outcome, std::shared_ptr<upstream_connection>>,
    /// A response the proxy made itself was written.
    caf::reacts_to<written_atom>,
    /// The wait before a retry is over.
    caf::reacts_to<retry_atom>>;

} // namespace proxy

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::token_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::credential_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::file_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::save_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::lease_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::pool_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::refresh_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::oauth_tokens)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(proxy::relay_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<proxy::upstream_connection>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<proxy::incoming_request>)
