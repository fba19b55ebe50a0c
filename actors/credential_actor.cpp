#include "actors/credential_actor.hpp"

#include "auth/credentials.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"

#include <algorithm>
#include <limits>

namespace proxy {
namespace {

using state_ptr = credential_actor::stateful_pointer<credential_state>;
using kind = credential_setup::kind;
constexpr std::chrono::seconds max_backoff{300};
constexpr std::chrono::seconds store_timeout{30};

token_reply current_token(const credential_state &st) {
  token_reply r;
  r.ok = true;
  switch (st.setup.type) {
  case kind::api_key:
  case kind::simulator:
    r.auth = {upstream_auth::scheme::api_key, st.setup.secret, false};
    break;
  case kind::bearer:
    r.auth = {upstream_auth::scheme::bearer, st.setup.secret, true};
    break;
  case kind::oauth:
    r.auth = {upstream_auth::scheme::bearer, st.setup.tokens.access_token, true};
    r.refreshable = true;
    break;
  }
  return r;
}

token_reply error_reply(unsigned status, std::string message) {
  token_reply r;
  r.error = make_api_error(status, std::move(message));
  return r;
}

std::int64_t now(const credential_state &st) {
  return st.setup.now_ms();
}

bool expired(const credential_state &st) {
  auto at = st.setup.tokens.expires_at_ms;
  return at != 0 && at <= now(st);
}

std::int64_t refresh_due_at(const credential_state &st) {
  auto at = st.setup.tokens.expires_at_ms;
  if (st.setup.type != kind::oauth || at == 0)
    return std::numeric_limits<std::int64_t>::max();
  return at - st.setup.refresh_margin.count() * 1000;
}

bool due_for_refresh(const credential_state &st) {
  return refresh_due_at(st) <= now(st);
}

/// Whatever this actor holds is a secret: nothing the proxy writes may show it.
void remember_secrets(const credential_state &st) {
  add_secret(st.setup.secret);
  add_secret(st.setup.tokens.access_token);
  add_secret(st.setup.tokens.refresh_token);
}

/// Tells the sessions which token to use without asking: the current one while it is usable.
void publish(state_ptr self) {
  auto &st = self->state;
  remember_secrets(st);
  if (!st.setup.board)
    return;
  if (st.needs_login || (st.setup.type == kind::oauth && expired(st))) {
    st.setup.board->publish(nullptr);
    return;
  }
  auto token = std::make_shared<published_token>();
  auto reply = current_token(st);
  token->auth = reply.auth;
  token->refreshable = reply.refreshable;
  token->fresh_until_ms = refresh_due_at(st);
  st.setup.board->publish(std::move(token));
}

token_reply needs_login_reply(const credential_state &st) {
  return error_reply(503, "The proxy's OAuth credential needs a new login (" + st.last_error +
                              "). Log in again with Claude Code, then restart the proxy or "
                              "push fresh credentials.");
}

/// What a waiter gets when no new token came: the old one while it is still valid, else an error.
token_reply fallback_reply(const credential_state &st) {
  if (st.needs_login)
    return needs_login_reply(st);
  if (!expired(st))
    return current_token(st);
  auto wait_s = std::max<std::int64_t>(1, (st.retry_at_ms - now(st) + 999) / 1000);
  return error_reply(503, "The proxy could not refresh its OAuth credential (" + st.last_error +
                              "); it will try again in " + std::to_string(wait_s) + " s.");
}

void answer_waiters(state_ptr self, const token_reply &reply) {
  auto waiters = std::move(self->state.waiters);
  self->state.waiters.clear();
  for (auto &w : waiters)
    w.deliver(reply);
}

/// The refresh is over (done, moot or failed): publish the outcome and answer everyone waiting.
void end_refresh(state_ptr self, const token_reply &reply) {
  // The file's lock is released by the save; a refresh that saved nothing releases it here.
  if (self->state.setup.store)
    self->send(self->state.setup.store, unlock_atom::value);
  self->state.refreshing = false;
  publish(self);
  answer_waiters(self, reply);
}

void log_storage_error(const std::string &detail) {
  log_event("credential_store_error", [&](json_writer &w) { json_field(w, "detail", detail); });
}

void sync_to_sink(state_ptr self) {
  auto &st = self->state;
  auto me = caf::actor_cast<credential_actor>(self);
  auto generation = st.generation;
  st.setup.sink->store(st.stored_json, [me, generation](std::string error) {
    caf::anon_send(me, synced_atom::value, generation, std::move(error));
  });
}

void on_synced(state_ptr self, std::uint64_t generation, const std::string &error) {
  auto &st = self->state;
  if (generation != st.generation) { // pushed credentials replaced these meanwhile
    if (st.refreshing)
      end_refresh(self, current_token(st));
    return;
  }
  st.unsynced = !error.empty();
  if (error.empty()) {
    st.sync_attempts = 0;
    if (st.last_error.rfind("refreshed, but", 0) == 0)
      st.last_error.clear();
    if (st.refreshing)
      end_refresh(self, current_token(st));
    return;
  }
  ++st.sync_attempts;
  log_storage_error(error);
  if (st.refreshing && st.sync_attempts < 3) {
    self->delayed_send(self, std::chrono::milliseconds(500 << st.sync_attempts), tick_atom::value);
    return;
  }
  // The old refresh token is spent: serving with the new pair beats failing every request.
  // Keep trying to store it in the background.
  st.last_error = "refreshed, but could not store the new tokens: " + error;
  if (st.refreshing)
    end_refresh(self, current_token(st));
  self->delayed_send(self, std::chrono::seconds(30), tick_atom::value);
}

/// The new pair is stored where it must be: hand it out (after the sink has it too).
void stored(state_ptr self, std::string json) {
  auto &st = self->state;
  st.stored_json = std::move(json);
  if (st.setup.sink) {
    st.sync_attempts = 0;
    sync_to_sink(self); // waiters are answered once it is stored
    return;
  }
  end_refresh(self, current_token(st));
}

/// Writes the current pair to the file (through the store actor), then calls `then(json)`. A
/// failure is recorded in last_error after `what` ("refreshed, but could not save the new tokens").
template <class F> void save_tokens(state_ptr self, std::string what, F then) {
  auto &st = self->state;
  if (st.setup.store_path.empty()) {
    then(update_claude_credentials(st.setup.source_json, st.setup.tokens));
    return;
  }
  self->request(st.setup.store, store_timeout, save_atom::value, st.setup.tokens,
                st.setup.source_json)
      .then(
          [self, what, then](save_reply &r) mutable {
            if (!r.error.empty()) {
              self->state.last_error = what + ": " + r.error;
              log_storage_error(r.error);
            }
            then(std::move(r.json));
          },
          [self, what, then](caf::error &e) mutable {
            auto why = self->system().render(e);
            self->state.last_error = what + ": " + why;
            log_storage_error(why);
            then(
                update_claude_credentials(self->state.setup.source_json, self->state.setup.tokens));
          });
}

void on_refreshed(state_ptr self, std::uint64_t generation, refresh_outcome &outcome) {
  auto &st = self->state;
  if (generation != st.generation) {
    // Fresh credentials were pushed while this grant ran: they win.
    end_refresh(self, current_token(st));
    return;
  }
  if (auto *tokens = std::get_if<oauth_tokens>(&outcome)) {
    st.setup.tokens = std::move(*tokens);
    remember_secrets(st);
    st.last_refresh_ms = now(st);
    st.backoff = std::chrono::seconds{0};
    st.retry_at_ms = 0;
    st.last_error.clear();
    ++st.refreshes;
    // The old refresh token is already spent: the new pair must be stored before anyone uses
    // it, or a crash now would lose the only valid refresh token.
    save_tokens(self, "refreshed, but could not save the new tokens",
                [self](std::string json) { stored(self, std::move(json)); });
    return;
  }
  auto &failed = std::get<refresh_failure>(outcome);
  st.last_error = failed.message;
  ++st.refresh_failures;
  if (failed.permanent) {
    st.needs_login = true;
    end_refresh(self, needs_login_reply(st));
    return;
  }
  st.backoff = std::min(max_backoff, std::max(std::chrono::seconds{1}, st.backoff * 2));
  st.backoff = std::clamp(failed.retry_after, st.backoff, max_backoff);
  st.retry_at_ms = now(st) + st.backoff.count() * 1000;
  end_refresh(self, fallback_reply(st));
}

/// After re-reading the store: refresh if still needed, else hand out what we have.
void grant_if_needed(state_ptr self, const std::string &rejected) {
  auto &st = self->state;
  bool wanted = rejected.empty() ? due_for_refresh(st) : st.setup.tokens.access_token == rejected;
  if (!wanted) {
    end_refresh(self, current_token(st));
    return;
  }
  if (st.setup.tokens.refresh_token.empty()) {
    st.needs_login = true;
    st.last_error = "the access token expired and there is no refresh token";
    end_refresh(self, needs_login_reply(st));
    return;
  }
  auto me = caf::actor_cast<credential_actor>(self);
  auto generation = st.generation;
  st.setup.endpoint->refresh(
      st.setup.tokens.refresh_token, [me, generation](refresh_outcome outcome) {
        caf::anon_send(me, refreshed_atom::value, generation, std::move(outcome));
      });
}

/// No refresh now, for a reason outside the token endpoint: serve with what we have and try
/// again in 5 s.
void refresh_later(state_ptr self, std::string why) {
  auto &st = self->state;
  st.last_error = std::move(why);
  log_storage_error(st.last_error);
  st.retry_at_ms = now(st) + 5000;
  end_refresh(self, fallback_reply(st));
}

/// Someone else (another process, or `claude` itself) may have refreshed since we loaded the
/// file: their pair is the live one, and using our old refresh token would fail or log them out.
/// So the file is re-read just before a refresh, by the store actor.
void start_refresh(state_ptr self, std::string rejected) {
  auto &st = self->state;
  st.refreshing = true;
  if (st.setup.store_path.empty()) {
    grant_if_needed(self, rejected);
    return;
  }
  auto generation = st.generation;
  self->request(st.setup.store, store_timeout, load_atom::value)
      .then(
          [self, rejected, generation](file_reply &r) {
            auto &st = self->state;
            if (!r.locked) {
              // Another process is refreshing (or cannot finish): spending the refresh token
              // now could log one of us out.
              refresh_later(self, "could not lock the credentials file: " + r.error);
              return;
            }
            if (r.ok && generation == st.generation)
              if (auto stored = parse_claude_credentials(r.text);
                  stored && stored->access_token != st.setup.tokens.access_token &&
                  stored->expires_at_ms >= st.setup.tokens.expires_at_ms)
                st.setup.tokens = stored.value();
            remember_secrets(st);
            grant_if_needed(self, rejected);
          },
          [self](caf::error &e) {
            refresh_later(self, "the credential store did not answer: " + self->system().render(e));
          });
}

/// Asks for a token that is fresh enough, refreshing first when it is due (or was rejected).
/// The refresh is shared: requests arriving meanwhile wait for the same result.
caf::result<token_reply> want_fresh_token(state_ptr self, const std::string &rejected) {
  auto &st = self->state;
  if (st.setup.type != kind::oauth)
    return current_token(st); // nothing to refresh: an upstream 401 reaches the client as it is
  if (st.needs_login)
    return needs_login_reply(st);
  if (!st.refreshing) {
    bool wanted = rejected.empty() ? due_for_refresh(st) : st.setup.tokens.access_token == rejected;
    if (!wanted)
      return current_token(st);
    if (now(st) < st.retry_at_ms)
      return fallback_reply(st);
    if (st.draining) // a refresh now could be cut off halfway and lose the rotated pair
      return expired(st) ? error_reply(529, "The proxy is shutting down and starts no refresh; "
                                            "retry shortly")
                         : current_token(st);
    start_refresh(self, rejected);
  }
  st.waiters.push_back(self->make_response_promise<token_reply>());
  return st.waiters.back();
}

/// Credentials pushed by the user (the admin route): they replace ours and clear any failure.
/// Answered once they are stored.
caf::result<token_reply> replace_tokens(state_ptr self, oauth_tokens tokens) {
  auto &st = self->state;
  if (st.setup.type != kind::oauth)
    return error_reply(409, "This proxy does not use OAuth credentials; restart it with them.");
  ++st.generation;
  st.setup.tokens = std::move(tokens);
  remember_secrets(st);
  st.needs_login = false;
  st.backoff = std::chrono::seconds{0};
  st.retry_at_ms = 0;
  st.sync_attempts = 0;
  st.unsynced = false;
  st.last_error.clear();
  publish(self);
  // A grant or sync still running is moot (see generation) but keeps `refreshing` set until it
  // reports, so no second grant starts. Whoever pushed these stored them already: no sync.
  answer_waiters(self, current_token(st));
  auto promise = self->make_response_promise<token_reply>();
  save_tokens(self, "could not save the pushed tokens", [self, promise](std::string json) mutable {
    self->state.stored_json = std::move(json);
    promise.deliver(current_token(self->state));
  });
  return promise;
}

caf::result<token_reply> replace_key(state_ptr self, std::string key) {
  auto &st = self->state;
  if (st.setup.type != kind::api_key)
    return error_reply(409, "This proxy does not use an API key; restart it with one.");
  st.setup.secret = std::move(key);
  publish(self); // remembered as a secret there, before anything could show it
  return current_token(st);
}

credential_status status_of(const credential_state &st) {
  credential_status s;
  s.kind = st.setup.type == kind::api_key  ? "api_key"
           : st.setup.type == kind::oauth  ? "oauth"
           : st.setup.type == kind::bearer ? "bearer"
                                           : "simulator";
  s.state = st.needs_login                                ? "needs_login"
            : st.refreshing                               ? "refreshing"
            : now(st) < st.retry_at_ms                    ? "backoff"
            : st.setup.type == kind::oauth && expired(st) ? "expired"
                                                          : "ok";
  s.store = st.setup.type != kind::oauth ? "none" : st.setup.store_path.empty() ? "memory" : "file";
  if (st.setup.type == kind::oauth && st.setup.tokens.expires_at_ms != 0)
    s.expires_in_s = (st.setup.tokens.expires_at_ms - now(st)) / 1000;
  // Unusable: a new login is needed, or the token expired and refreshing it keeps failing.
  s.usable =
      !st.needs_login && !(st.setup.type == kind::oauth && expired(st) && st.retry_at_ms != 0);
  s.last_refresh_ms = st.last_refresh_ms;
  s.last_error = st.last_error;
  s.refreshes = st.refreshes;
  s.refresh_failures = st.refresh_failures;
  return s;
}

} // namespace

credential_actor::behavior_type
credential_behavior(credential_actor::stateful_pointer<credential_state> self,
                    credential_setup setup) {
  self->state.setup = std::move(setup);
  publish(self);
  return {
      [self](get_token_atom) -> caf::result<token_reply> {
        return want_fresh_token(self, std::string{});
      },
      [self](refresh_atom, const std::string &rejected) -> caf::result<token_reply> {
        return want_fresh_token(self, rejected);
      },
      [self](replace_atom, oauth_tokens &tokens) -> caf::result<token_reply> {
        return replace_tokens(self, std::move(tokens));
      },
      [self](replace_atom, std::string &key) -> caf::result<token_reply> {
        return replace_key(self, std::move(key));
      },
      [self](status_atom) { return status_of(self->state); },
      [self](drain_atom) { self->state.draining = true; },
      [self](refreshed_atom, std::uint64_t generation, refresh_outcome &outcome) {
        on_refreshed(self, generation, outcome);
      },
      [self](synced_atom, std::uint64_t generation, const std::string &error) {
        on_synced(self, generation, error);
      },
      [self](tick_atom) { // retry storing a pair the sink refused
        if (self->state.unsynced)
          sync_to_sink(self);
      },
  };
}

} // namespace proxy
