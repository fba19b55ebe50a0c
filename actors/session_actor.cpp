#include "actors/session_actor.hpp"

#include "core/log.hpp"
#include "http/header_policy.hpp"
#include "http/relay.hpp"

namespace proxy {
namespace {

using state_ptr = caf::stateful_actor<session_state> *;
using clock = std::chrono::steady_clock;

std::int64_t ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

void log_and_end(state_ptr self) {
  auto &st = self->state;
  if (st.env->log_requests) {
    const auto &o = st.outcome;
    request_record r;
    r.id = st.req.request_id;
    r.method = std::string(http::to_string(st.req.method));
    r.path = st.req.target.substr(0, st.req.target.find('?'));
    r.status = st.errored ? st.error.status : o.status;
    r.model = st.facts.model;
    r.stream = st.facts.stream;
    if (o.first_byte != clock::time_point{})
      r.ttfb_ms = ms_between(st.req.received, o.first_byte);
    r.duration_ms = ms_between(st.req.received, clock::now());
    r.input_tokens = o.usage.input_tokens;
    r.output_tokens = o.usage.output_tokens;
    r.cache_read_input_tokens = o.usage.cache_read_input_tokens;
    r.upstream_request_id = o.upstream_request_id;
    if (st.retried)
      r.flags.push_back("refreshed_after_401");
    if (o.client_gone)
      r.flags.push_back("client_gone");
    if (o.stream_broken)
      r.flags.push_back("stream_broken");
    if (st.errored)
      r.error = st.error.message;
    log_request(r);
  }
  st.release_client();
  self->quit();
}

/// The proxy answers by itself (an error, or /health), then ends.
void respond(state_ptr self, unsigned status, std::string body) {
  auto client = self->state.req.client;
  auto me = caf::actor_cast<caf::actor>(self);
  net::co_spawn(
      client->executor(), write_response(*client, status, std::move(body), "application/json"),
      [me, client](std::exception_ptr, bool) { caf::anon_send(me, written_atom::value); });
}

void fail(state_ptr self, api_error err) {
  auto &st = self->state;
  st.errored = true;
  st.error = std::move(err);
  auto client = st.req.client;
  auto me = caf::actor_cast<caf::actor>(self);
  // The coroutine gets copies: it runs on the network thread, apart from this actor's state.
  net::co_spawn(
      client->executor(), write_error(*client, st.error, st.req.request_id),
      [me, client](std::exception_ptr, bool) { caf::anon_send(me, written_atom::value); });
}

auto on_actor_error(state_ptr self, const char *who) {
  return [self, who](caf::error &e) {
    fail(self, make_api_error(e == caf::sec::request_timeout ? 504 : 500,
                              std::string("the proxy's ") + who +
                                  " did not answer: " + self->system().render(e)));
  };
}

void run_relay(state_ptr self, std::shared_ptr<upstream_connection> conn) {
  auto &st = self->state;
  // Everything the relay refers to lives until its completion handler has run.
  struct job {
    std::shared_ptr<upstream_connection> conn;
    std::shared_ptr<client_link> client;
    relay_params params;
  };
  auto j = std::make_shared<job>();
  j->conn = std::move(conn);
  j->client = st.req.client;
  auto &p = j->params;
  p.method = st.req.method;
  p.target = st.env->upstream.target(st.req.target);
  p.headers = upstream_request_headers(st.req.headers, st.token.auth);
  p.body = st.req.body;
  p.intercept_unauthorized = st.token.refreshable && !st.retried;
  p.connect_timeout = st.env->connect_timeout;
  p.upstream_timeout = st.env->upstream_timeout;
  p.stream_idle_timeout = st.env->stream_idle_timeout;
  auto me = caf::actor_cast<caf::actor>(self);
  auto executor = j->conn->executor();
  net::co_spawn(executor, relay(*j->conn, *j->client, j->params),
                [me, j](std::exception_ptr e, relay_outcome outcome) {
                  if (e) {
                    outcome = relay_outcome{};
                    outcome.error = make_api_error(502, "the relay stopped unexpectedly");
                    j->conn->close();
                    if (j->client->response_started) {
                      // Part of a response went out: the only honest end is a closed connection.
                      outcome.what = relay_outcome::kind::relayed;
                      outcome.stream_broken = true;
                      j->client->keep_alive = false;
                      j->client->stream().close();
                    }
                  }
                  caf::anon_send(me, relay_done_atom::value, std::move(outcome), j->conn);
                });
}

void lease_and_relay(state_ptr self) {
  auto &st = self->state;
  self->request(st.env->pool, st.env->lease_timeout, lease_atom::value, st.req.client->worker())
      .then(
          [self](lease_reply &lease) {
            if (!lease.ok)
              return fail(self, std::move(lease.error));
            run_relay(self, std::move(lease.connection));
          },
          on_actor_error(self, "upstream pool"));
}

void use_token(state_ptr self, token_reply &reply) {
  if (!reply.ok)
    return fail(self, std::move(reply.error));
  self->state.token = std::move(reply);
  lease_and_relay(self);
}

void on_relay_done(state_ptr self, relay_outcome &outcome,
                   std::shared_ptr<upstream_connection> &conn) {
  auto &st = self->state;
  self->send(st.env->pool, release_atom::value, std::move(conn), outcome.upstream_reusable);
  st.outcome = std::move(outcome);
  using kind = relay_outcome::kind;
  if (st.outcome.what == kind::unauthorized && !st.retried) {
    // The token was revoked or expired early: one forced refresh, one retry.
    st.retried = true;
    self->request(st.env->credentials, st.env->actor_timeout, refresh_atom::value,
                  st.token.auth.secret)
        .then([self](token_reply &reply) { use_token(self, reply); },
              on_actor_error(self, "credential actor"));
    return;
  }
  if (st.outcome.what == kind::failed && !st.outcome.client_gone)
    return fail(self, st.outcome.error);
  log_and_end(self);
}

void serve_health(state_ptr self) {
  auto &st = self->state;
  self->request(st.env->credentials, st.env->actor_timeout, status_atom::value)
      .then(
          [self](credential_status &cred) {
            auto &st = self->state;
            self->request(st.env->pool, st.env->actor_timeout, status_atom::value)
                .then(
                    [self, cred](pool_status &pool) {
                      auto [status, body] = health_json(*self->state.env, cred, pool);
                      self->state.outcome.status = status;
                      respond(self, status, std::move(body));
                    },
                    on_actor_error(self, "upstream pool"));
          },
          on_actor_error(self, "credential actor"));
}

/// Fresh credentials pushed from the user's machine (the frontend checked the admin key).
void replace_credentials(state_ptr self) {
  auto &st = self->state;
  auto tokens = parse_claude_credentials(*st.req.body);
  if (!tokens)
    return fail(self,
                make_api_error(400, "Body is not Claude Code credentials: " + tokens.error()));
  if (tokens->refresh_token.empty() && tokens->expires_at_ms == 0)
    return fail(self,
                make_api_error(400, "Credentials carry neither a refresh token nor an expiry"));
  self->request(st.env->credentials, st.env->actor_timeout, replace_atom::value, tokens.value())
      .then(
          [self](token_reply &reply) {
            if (!reply.ok)
              return fail(self, std::move(reply.error));
            self->state.outcome.status = 200;
            respond(self, 200, R"({"status":"ok","replaced":true})");
          },
          on_actor_error(self, "credential actor"));
}

std::string iso8601(std::int64_t epoch_ms) {
  std::time_t t = epoch_ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace

std::pair<unsigned, std::string> health_json(const session_env &env, const credential_status &cred,
                                             const pool_status &pool) {
  bool ok = cred.usable;
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(clock::now() - env.started);
  std::string body = "{\"status\":\"" + std::string(ok ? "ok" : "unavailable") +
                     "\",\"version\":\"" PROXY_VERSION "\",\"mode\":\"" + env.mode + "\"";
  if (env.mode == "simulator")
    body += ",\"warning\":\"DEMO MODE: answers come from the bundled upstream simulator, not "
            "from Anthropic\"";
  body += ",\"credential\":{\"kind\":\"" + cred.kind + "\",\"state\":\"" + cred.state +
          "\",\"store\":\"" + cred.store + "\"";
  if (cred.expires_in_s)
    body += ",\"expires_in_s\":" + std::to_string(*cred.expires_in_s);
  body += ",\"last_refresh\":" +
          (cred.last_refresh_ms ? "\"" + iso8601(cred.last_refresh_ms) + "\"" : "null");
  body += ",\"last_error\":" +
          (cred.last_error.empty() ? "null" : "\"" + json_escape(cred.last_error) + "\"");
  body += ",\"refreshes\":" + std::to_string(cred.refreshes) + "}";
  body += ",\"upstream\":{\"base_url\":\"" + json_escape(env.upstream.to_string()) +
          "\",\"pool\":{\"open\":" + std::to_string(pool.open) +
          ",\"idle\":" + std::to_string(pool.idle) + ",\"busy\":" + std::to_string(pool.busy) +
          ",\"waiting\":" + std::to_string(pool.waiting) + ",\"max\":" + std::to_string(pool.max) +
          "}}";
  // This request itself is in flight too; report the others.
  body += ",\"requests_in_flight\":" + std::to_string(std::max(0, env.in_flight->load() - 1)) +
          ",\"uptime_s\":" + std::to_string(uptime.count()) + "}";
  return {ok ? 200u : 503u, body};
}

caf::behavior session_actor(caf::stateful_actor<session_state> *self,
                            std::shared_ptr<const session_env> env, session_request req) {
  auto &st = self->state;
  st.env = std::move(env);
  st.req = std::move(req);
  ++*st.env->in_flight;
  st.holds_client = true;
  switch (st.req.kind) {
  case route::health:
    serve_health(self);
    break;
  case route::messages:
  case route::count_tokens: {
    auto checked = check_message_body(st.req.headers[http::field::content_type], *st.req.body);
    if (auto *err = std::get_if<api_error>(&checked)) {
      fail(self, std::move(*err));
      break;
    }
    st.facts = std::get<message_facts>(checked);
    [[fallthrough]];
  }
  case route::models:
    self->request(st.env->credentials, st.env->actor_timeout, get_token_atom::value)
        .then([self](token_reply &reply) { use_token(self, reply); },
              on_actor_error(self, "credential actor"));
    break;
  case route::admin_credentials:
    replace_credentials(self);
    break;
  default:
    // The frontend answers unknown paths and methods itself.
    assert(!"session for a route the frontend handles");
    fail(self, make_api_error(500, "unroutable request"));
  }
  return {
      [self](relay_done_atom, relay_outcome &outcome, std::shared_ptr<upstream_connection> &c) {
        on_relay_done(self, outcome, c);
      },
      [self](written_atom) { log_and_end(self); },
  };
}

} // namespace proxy
