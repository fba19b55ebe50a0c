#include "actors/credential_actor.hpp"

#include "auth/credential_store.hpp"
#include "core/log.hpp"

#include <algorithm>

namespace proxy {
namespace {

using state_ptr = caf::stateful_actor<credential_state> *;
constexpr std::chrono::seconds max_backoff{300};

token_reply current_token(const credential_state &st) {
  token_reply r;
  r.ok = true;
  switch (st.setup.type) {
  case credential_setup::kind::api_key:
  case credential_setup::kind::simulator:
    r.auth = {upstream_auth::scheme::api_key, st.setup.secret, false};
    break;
  case credential_setup::kind::bearer:
    r.auth = {upstream_auth::scheme::bearer, st.setup.secret, true};
    break;
  case credential_setup::kind::oauth:
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

bool due_for_refresh(const credential_state &st) {
  auto at = st.setup.tokens.expires_at_ms;
  return at != 0 && at - now(st) <= st.setup.refresh_margin.count() * 1000;
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

/// Someone else (another process, or `claude` itself) may have refreshed since we loaded the
/// file: their pair is the live one, and using our old refresh token would fail or log them out.
void adopt_newer_store(state_ptr self) {
  auto &st = self->state;
  if (st.setup.store_path.empty())
    return;
  auto text = read_text_file(st.setup.store_path);
  if (!text)
    return;
  auto stored = parse_claude_credentials(text.value());
  if (!stored || stored->access_token == st.setup.tokens.access_token)
    return;
  if (stored->expires_at_ms >= st.setup.tokens.expires_at_ms)
    st.setup.tokens = stored.value();
}

void start_refresh(state_ptr self) {
  auto &st = self->state;
  if (st.refreshing)
    return;
  if (st.setup.tokens.refresh_token.empty()) {
    st.needs_login = true;
    st.last_error = "the access token expired and there is no refresh token";
    answer_waiters(self, needs_login_reply(st));
    return;
  }
  st.refreshing = true;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto generation = st.generation;
  st.setup.endpoint->refresh(
      st.setup.tokens.refresh_token, [me, generation](refresh_outcome outcome) {
        caf::anon_send(me, refreshed_atom::value, generation, std::move(outcome));
      });
}

/// Asks for a token that is fresh enough, refreshing first when it is due. The refresh is
/// shared: requests arriving meanwhile wait for the same result.
caf::result<token_reply> want_fresh_token(state_ptr self, const std::string &rejected) {
  auto &st = self->state;
  if (st.setup.type != credential_setup::kind::oauth)
    return current_token(st); // nothing to refresh: an upstream 401 reaches the client as it is
  if (st.needs_login)
    return needs_login_reply(st);
  auto wanted = [&] {
    return rejected.empty() ? due_for_refresh(st) : st.setup.tokens.access_token == rejected;
  };
  if (!st.refreshing) {
    if (!wanted())
      return current_token(st);
    adopt_newer_store(self); // only now: the file is read just before a refresh
    if (!wanted())
      return current_token(st);
    if (now(st) < st.retry_at_ms)
      return fallback_reply(st);
    start_refresh(self);
    if (!st.refreshing) // it could not even start
      return fallback_reply(st);
  }
  st.waiters.push_back(self->make_response_promise());
  return st.waiters.back();
}

/// The credentials JSON for the current tokens, keeping the other keys of what we were given.
std::string credentials_json(const credential_state &st) {
  std::string base = st.setup.source_json;
  if (!st.setup.store_path.empty())
    if (auto text = read_text_file(st.setup.store_path))
      base = text.value();
  return update_claude_credentials(base, st.setup.tokens);
}

void log_storage_error(const std::string &detail) {
  log_json("credential_store_error", "{\"detail\":\"" + json_escape(detail) + "\"}");
}

/// Storing is done: from now on the new tokens are handed out.
void refresh_finished(state_ptr self) {
  auto &st = self->state;
  st.refreshing = false;
  answer_waiters(self, current_token(st));
}

void sync_to_sink(state_ptr self) {
  auto &st = self->state;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto generation = st.generation;
  st.setup.sink->store(credentials_json(st), [me, generation](std::string error) {
    caf::anon_send(me, synced_atom::value, generation, std::move(error));
  });
}

void on_synced(state_ptr self, std::uint64_t generation, const std::string &error) {
  auto &st = self->state;
  if (generation != st.generation) { // pushed credentials replaced these meanwhile
    if (st.refreshing)
      refresh_finished(self);
    return;
  }
  st.unsynced = !error.empty();
  if (error.empty()) {
    st.sync_attempts = 0;
    if (st.last_error.rfind("refreshed, but", 0) == 0)
      st.last_error.clear();
    if (st.refreshing)
      refresh_finished(self);
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
    refresh_finished(self);
  self->delayed_send(self, std::chrono::seconds(30), tick_atom::value);
}

void on_refreshed(state_ptr self, std::uint64_t generation, refresh_outcome &outcome) {
  auto &st = self->state;
  if (generation != st.generation) {
    // Fresh credentials were pushed while this grant ran: they win.
    st.refreshing = false;
    answer_waiters(self, current_token(st));
    return;
  }
  if (auto *tokens = std::get_if<oauth_tokens>(&outcome)) {
    st.setup.tokens = std::move(*tokens);
    st.last_refresh_ms = now(st);
    st.backoff = std::chrono::seconds{0};
    st.retry_at_ms = 0;
    st.last_error.clear();
    ++st.refreshes;
    // The old refresh token is already spent: the new pair must be stored before anyone uses
    // it, or a crash now would lose the only valid refresh token.
    if (!st.setup.store_path.empty()) {
      auto written = write_file_durably(st.setup.store_path, credentials_json(st));
      if (!written) {
        st.last_error = "refreshed, but could not save the new tokens: " + written.error();
        log_storage_error(written.error());
      }
    }
    if (st.setup.sink) {
      st.sync_attempts = 0;
      sync_to_sink(self); // waiters are answered once it is stored
      return;
    }
    refresh_finished(self);
    return;
  }
  st.refreshing = false;
  auto &failed = std::get<refresh_failure>(outcome);
  st.last_error = failed.message;
  if (failed.permanent) {
    st.needs_login = true;
    answer_waiters(self, needs_login_reply(st));
    return;
  }
  st.backoff = std::min(max_backoff, std::max(std::chrono::seconds{1}, st.backoff * 2));
  st.backoff = std::clamp(failed.retry_after, st.backoff, max_backoff);
  st.retry_at_ms = now(st) + st.backoff.count() * 1000;
  answer_waiters(self, fallback_reply(st));
}

/// Credentials pushed by the user (the admin route): they replace ours and clear any failure.
token_reply replace_tokens(state_ptr self, oauth_tokens tokens) {
  auto &st = self->state;
  if (st.setup.type != credential_setup::kind::oauth)
    return error_reply(409, "This proxy does not use OAuth credentials; restart it with them.");
  ++st.generation;
  st.setup.tokens = std::move(tokens);
  st.needs_login = false;
  st.backoff = std::chrono::seconds{0};
  st.retry_at_ms = 0;
  st.sync_attempts = 0;
  st.unsynced = false;
  st.last_error.clear();
  if (!st.setup.store_path.empty())
    if (auto written = write_file_durably(st.setup.store_path, credentials_json(st)); !written) {
      st.last_error = "could not save the pushed tokens: " + written.error();
      log_storage_error(written.error());
    }
  // Whoever pushed them stored them already. A grant or sync still running is moot (see
  // generation) but keeps `refreshing` set until it reports, so no second grant starts.
  answer_waiters(self, current_token(st));
  return current_token(st);
}

credential_status status_of(const credential_state &st) {
  credential_status s;
  using k = credential_setup::kind;
  s.kind = st.setup.type == k::api_key  ? "api_key"
           : st.setup.type == k::oauth  ? "oauth"
           : st.setup.type == k::bearer ? "bearer"
                                        : "simulator";
  s.state = st.needs_login                             ? "needs_login"
            : st.refreshing                            ? "refreshing"
            : now(st) < st.retry_at_ms                 ? "backoff"
            : st.setup.type == k::oauth && expired(st) ? "expired"
                                                       : "ok";
  s.store = st.setup.type != k::oauth ? "none" : st.setup.store_path.empty() ? "memory" : "file";
  if (st.setup.type == k::oauth && st.setup.tokens.expires_at_ms != 0)
    s.expires_in_s = (st.setup.tokens.expires_at_ms - now(st)) / 1000;
  // Unusable: a new login is needed, or the token expired and refreshing it keeps failing.
  s.usable = !st.needs_login && !(st.setup.type == k::oauth && expired(st) && st.retry_at_ms != 0);
  s.last_refresh_ms = st.last_refresh_ms;
  s.last_error = st.last_error;
  s.refreshes = st.refreshes;
  return s;
}

} // namespace

caf::behavior credential_actor(caf::stateful_actor<credential_state> *self,
                               credential_setup setup) {
  self->state.setup = std::move(setup);
  return {
      [self](get_token_atom) -> caf::result<token_reply> {
        return want_fresh_token(self, std::string{});
      },
      [self](refresh_atom, const std::string &rejected) -> caf::result<token_reply> {
        return want_fresh_token(self, rejected);
      },
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
      [self](replace_atom, oauth_tokens &tokens) {
        return replace_tokens(self, std::move(tokens));
      },
      [self](status_atom) { return status_of(self->state); },
  };
}

} // namespace proxy
