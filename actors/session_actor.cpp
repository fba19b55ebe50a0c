#include "actors/session_actor.hpp"

#include "actors/health.hpp"
#include "auth/credentials.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "io/relay.hpp"
#include "policy/header_policy.hpp"
#include "policy/quota_policy.hpp"

namespace proxy {
namespace {

using state_ptr = session_actor::stateful_pointer<session_state>;
using clock = std::chrono::steady_clock;

std::int64_t ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

std::optional<double> seconds_between(clock::time_point a, clock::time_point b) {
  if (b == clock::time_point{})
    return std::nullopt;
  return std::chrono::duration<double>(b - a).count();
}

void count_stream(state_ptr self, bool open) {
  auto &st = self->state;
  if (!st.env->metrics || !st.facts.stream || st.stream_counted == open)
    return;
  st.stream_counted = open;
  st.env->metrics->stream_open(open ? 1 : -1);
}

void record_metrics(state_ptr self) {
  auto &st = self->state;
  if (!st.env->metrics)
    return;
  const auto &o = st.outcome;
  request_sample m;
  m.route = route_name(st.req.kind);
  m.method = http::to_string(st.req.method);
  m.status = st.errored ? st.error.status : o.status;
  m.stream = st.facts.stream;
  m.duration_s = std::chrono::duration<double>(clock::now() - st.req.received).count();
  m.ttfb_s = seconds_between(st.req.received, o.first_byte);
  m.model = st.facts.model;
  m.input_tokens = o.usage.input_tokens;
  m.output_tokens = o.usage.output_tokens;
  m.cache_read_tokens = o.usage.cache_read_input_tokens;
  m.cache_creation_tokens = o.usage.cache_creation_input_tokens;
  m.retry_reasons = st.retry_reasons;
  m.refused = st.refused;
  st.env->metrics->record(st.req.client->worker(), m);
}

void log_and_end(state_ptr self) {
  auto &st = self->state;
  count_stream(self, false);
  record_metrics(self);
  if (st.env->log_requests) {
    const auto &o = st.outcome;
    request_record r;
    r.id = st.req.request_id;
    r.method = http::to_string(st.req.method);
    r.path = std::string_view(st.req.target).substr(0, st.req.target.find('?'));
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
    r.retries = st.retries;
    r.retry_reasons = st.retry_reasons;
    std::size_t flags = 0;
    if (st.retried)
      r.flags[flags++] = "refreshed_after_401";
    if (o.client_gone)
      r.flags[flags++] = "client_gone";
    if (o.stream_broken)
      r.flags[flags++] = "stream_broken";
    if (st.extra_usage_refusal)
      r.flags[flags++] = "extra_usage_refusal";
    if (st.errored)
      r.error = st.error.message;
    log_request(r);
  }
  st.release_client();
  self->quit();
}

/// The connection writes what `write` writes (a coroutine over the client), then the session
/// ends.
template <class Write> void write_then_end(state_ptr self, Write write) {
  auto me = caf::actor_cast<session_actor>(self);
  auto client = self->state.req.client;
  client->submit([me, client, write = std::move(write)]() -> task<> {
    co_await write(*client);
    caf::anon_send(me, written_atom::value);
  });
}

/// The proxy answers by itself (/health, the admin route), then ends.
void respond(state_ptr self, unsigned status, std::string body) {
  self->state.outcome.status = status;
  write_then_end(self, [status, body = std::move(body)](client_link &c) {
    return write_response(c, status, body, "application/json");
  });
}

void fail(state_ptr self, api_error err) {
  auto &st = self->state;
  st.errored = true;
  st.error = std::move(err);
  write_then_end(self, [e = st.error, id = st.req.request_id](client_link &c) {
    return write_error(c, e, id);
  });
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
  relay_params p;
  std::optional<std::uint64_t> length;
  if (st.req.streamed)
    length = st.req.streamed->length;
  else if (st.req.method == http::verb::post || !st.req.body->empty())
    length = st.req.body->size();
  bool chunked = st.req.streamed && st.req.streamed->chunked;
  p.head = upstream_request_head(st.req.method, st.env->upstream.target(st.req.target),
                                 st.env->upstream.host_header(), st.req.headers, st.auth, length,
                                 chunked);
  p.body = st.req.body;
  p.streamed = st.req.streamed;
  std::string_view target = st.req.target;
  if (st.req.kind == route::batches && !target.substr(0, target.find('?')).ends_with("/results"))
    p.results_origin = client_origin(st.req.headers);
  p.head_request = st.req.method == http::verb::head;
  // A streamed body can be sent only once: no second attempt after a refresh or a refusal.
  p.intercept_unauthorized = st.refreshable && !st.retried && !st.req.streamed;
  p.connect_timeout = st.env->connect_timeout;
  p.upstream_timeout = st.env->upstream_timeout;
  p.stream_idle_timeout = st.env->stream_idle_timeout;
  p.keepalive = st.env->sse_keepalive;
  p.may_retry = st.retries < st.env->retries && !st.req.streamed;
  p.attempt = st.retries;
  p.retry_max_wait = st.env->retry_max_wait;
  p.rate_limits = st.env->rate_limits.get();
  // The connection's own coroutine runs the relay; the outcome comes back as a message.
  auto me = caf::actor_cast<session_actor>(self);
  st.req.client->submit(
      [me, conn, client = st.req.client, serial = st.req.serial, p = std::move(p)]() -> task<> {
        relay_outcome outcome;
        try {
          outcome = co_await relay(conn, client, p);
        } catch (const std::exception &) {
          outcome = relay_outcome{};
          outcome.error = make_api_error(502, "the relay stopped unexpectedly");
          conn->close();
          if (client->response_started) {
            // Part of a response went out: the only honest end is a closed connection.
            outcome.what = relay_outcome::kind::relayed;
            outcome.stream_broken = true;
            client->keep_alive = false;
            client->close();
          }
        }
        if (outcome.what == relay_outcome::kind::relayed || outcome.client_gone) {
          // Nothing more goes to this client: it may send its next request at once, while the
          // session logs and returns the upstream connection (which it does before that request
          // can lease one: this post comes first).
          client->finish(serial);
          net::post(client->executor(), [me, conn, outcome = std::move(outcome)]() mutable {
            caf::anon_send(me, relay_done_atom::value, std::move(outcome), std::move(conn));
          });
        } else {
          caf::anon_send(me, relay_done_atom::value, std::move(outcome), conn);
        }
      });
}

void lease_and_relay(state_ptr self) {
  auto &st = self->state;
  auto &pool = st.env->pools[st.req.client->worker() % st.env->pools.size()];
  // No timeout (no clock entry per request): a pool answers a lease from the handler itself,
  // never through a promise that could be dropped, and CAF answers a request to a pool that is
  // gone with an error. The pool's lease handler cannot throw (it catches).
  self->request(pool, caf::infinite, lease_atom::value)
      .then(
          [self](lease_reply &lease) {
            if (!lease.ok) {
              self->state.refused = "overload";
              return fail(self, std::move(lease.error));
            }
            count_stream(self, true);
            run_relay(self, std::move(lease.connection));
          },
          on_actor_error(self, "upstream pool"));
}

void use_token(state_ptr self, token_reply &reply) {
  if (!reply.ok) {
    self->state.refused = "credential";
    return fail(self, std::move(reply.error));
  }
  self->state.auth = std::move(reply.auth);
  self->state.refreshable = reply.refreshable;
  lease_and_relay(self);
}

/// The published token when it is fresh (no message needed), else the credential actor's.
void get_token(state_ptr self) {
  auto &st = self->state;
  if (const auto *token = st.env->tokens->fresh(unix_now_ms())) {
    st.auth = token->auth;
    st.refreshable = token->refreshable;
    lease_and_relay(self);
    return;
  }
  self->request(st.env->credentials, st.env->actor_timeout, get_token_atom::value)
      .then([self](token_reply &reply) { use_token(self, reply); },
            on_actor_error(self, "credential actor"));
}

/// What the answer says about the credential's standing with the upstream's quota.
void note_quota(state_ptr self) {
  auto &st = self->state;
  const auto &o = st.outcome;
  auto &board = *st.env->rate_limits;
  if (is_extra_usage_refusal(o.status, o.upstream_error.type, o.upstream_error.message)) {
    st.extra_usage_refusal = true;
    if (board.note_extra_usage_refusal(unix_now_ms()))
      log_event("quota", [&](json_writer &w) {
        json_field(w, "state", "extra_usage_required");
        json_field(w, "upstream_message", o.upstream_error.message);
        json_field(w, "hint", extra_usage_hint);
      });
  } else if (o.what == relay_outcome::kind::relayed && o.status / 100 == 2) {
    board.note_success();
  }
}

void on_relay_done(state_ptr self, relay_outcome &outcome,
                   std::shared_ptr<upstream_connection> &conn) {
  auto &st = self->state;
  auto &pool = st.env->pools[conn->worker() % st.env->pools.size()];
  self->send(pool, release_atom::value, std::move(conn), outcome.upstream_reusable);
  st.outcome = std::move(outcome);
  if (st.env->metrics) {
    const auto &o = st.outcome;
    if (o.failure != relay_outcome::failure_kind::none)
      st.env->metrics->upstream_error(failure_name(o.failure));
    else if (o.status == 429 || o.status >= 500)
      st.env->metrics->upstream_error("http_" + std::to_string(o.status));
  }
  note_quota(self);
  using kind = relay_outcome::kind;
  if (st.outcome.what == kind::unauthorized && !st.retried && !st.outcome.client_gone) {
    // The token was revoked or expired early: one forced refresh, one retry.
    st.retried = true;
    self->request(st.env->credentials, st.env->actor_timeout, refresh_atom::value, st.auth.secret)
        .then([self](token_reply &reply) { use_token(self, reply); },
              on_actor_error(self, "credential actor"));
    return;
  }
  if (st.outcome.what == kind::retry && !st.outcome.client_gone) {
    // Nothing reached the client: wait as the upstream asked (or back off), then again.
    ++st.retries;
    if (!st.retry_reasons.empty())
      st.retry_reasons += ',';
    st.retry_reasons += st.outcome.retry_reason;
    self->delayed_send(self, st.outcome.retry_wait, retry_atom::value);
    return;
  }
  if (st.outcome.what == kind::failed && !st.outcome.client_gone)
    return fail(self, st.outcome.error);
  log_and_end(self);
}

/// Asks the credential actor and every pool for their status, then calls `then` with both (the
/// pools summed).
template <class Then> void gather_status(state_ptr self, Then then) {
  auto &st = self->state;
  self->request(st.env->credentials, st.env->actor_timeout, status_atom::value)
      .then(
          [self, then](credential_status &cred) {
            auto &st = self->state;
            auto total = std::make_shared<pool_status>();
            auto remaining = std::make_shared<std::size_t>(st.env->pools.size());
            for (auto &pool : st.env->pools)
              self->request(pool, st.env->actor_timeout, status_atom::value)
                  .then(
                      [cred, total, remaining, then](pool_status &p) {
                        total->open += p.open;
                        total->idle += p.idle;
                        total->busy += p.busy;
                        total->max = p.max;
                        if (--*remaining == 0)
                          then(cred, *total);
                      },
                      on_actor_error(self, "upstream pool"));
          },
          on_actor_error(self, "credential actor"));
}

/// Requests in flight besides the one asking (/health or /metrics is in flight too).
int others_in_flight(const session_env &env) {
  return std::max(0, env.in_flight->total() - 1);
}

void serve_health(state_ptr self) {
  gather_status(self, [self](const credential_status &cred, const pool_status &pools) {
    auto &env = *self->state.env;
    health_facts facts;
    facts.mode = env.mode;
    facts.upstream = env.upstream.to_string();
    facts.capacity = env.capacity;
    facts.max_in_flight = env.max_in_flight;
    facts.draining = env.draining->load(std::memory_order_relaxed);
    facts.requests_in_flight = others_in_flight(env);
    facts.uptime_s =
        std::chrono::duration_cast<std::chrono::seconds>(clock::now() - env.started).count();
    facts.rate_limits = env.rate_limits->snapshot();
    facts.rate_limits_updated_ms = env.rate_limits->updated_ms();
    facts.quota = env.rate_limits->quota();
    auto [status, body] = health_json(facts, cred, pools);
    respond(self, status, std::move(body));
  });
}

void serve_metrics(state_ptr self) {
  gather_status(self, [self](const credential_status &cred, const pool_status &pools) {
    auto &env = *self->state.env;
    scrape_facts f;
    f.oauth = cred.kind == "oauth";
    f.credential_usable = cred.usable;
    f.credential_expires_in_s = cred.expires_in_s;
    f.refreshes_ok = cred.refreshes;
    f.refreshes_failed = cred.refresh_failures;
    f.pool_open = pools.open;
    f.pool_idle = pools.idle;
    f.pool_busy = pools.busy;
    f.capacity = env.capacity;
    f.max_in_flight = env.max_in_flight;
    f.requests_in_flight = others_in_flight(env);
    f.draining = env.draining->load(std::memory_order_relaxed);
    f.rate_limits = env.rate_limits->snapshot();
    f.quota = env.rate_limits->quota();
    auto text = env.metrics ? env.metrics->render(f) : std::string{};
    self->state.outcome.status = 200;
    write_then_end(self, [text = std::move(text)](client_link &c) {
      return write_response(c, 200, text, "text/plain; version=0.0.4; charset=utf-8");
    });
  });
}

/// The credential actor's answer to pushed credentials, as the admin route's response.
auto answer_replaced(state_ptr self) {
  return [self](token_reply &reply) {
    if (!reply.ok)
      return fail(self, std::move(reply.error));
    respond(self, 200, write_public_json([](json_writer &w) {
              w.StartObject();
              json_field(w, "status", "ok");
              json_field(w, "replaced", true);
              w.EndObject();
            }));
  };
}

/// Fresh credentials pushed from the user's machine or the edge (the server checked the admin
/// key): Claude Code's OAuth document, or {"api_key": ...} for a rotated API key.
void replace_credentials(state_ptr self) {
  auto &st = self->state;
  if (auto key = parse_api_key_push(*st.req.body)) {
    self->request(st.env->credentials, st.env->actor_timeout, replace_atom::value,
                  std::move(key.value()))
        .then(answer_replaced(self), on_actor_error(self, "credential actor"));
    return;
  }
  auto tokens = parse_claude_credentials(*st.req.body);
  if (!tokens)
    return fail(self, make_api_error(
                          400, "Body is neither Claude Code credentials nor {\"api_key\": ...}: " +
                                   tokens.error()));
  if (tokens->refresh_token.empty() && tokens->expires_at_ms == 0)
    return fail(self,
                make_api_error(400, "Credentials carry neither a refresh token nor an expiry"));
  self->request(st.env->credentials, st.env->actor_timeout, replace_atom::value, tokens.value())
      .then(answer_replaced(self), on_actor_error(self, "credential actor"));
}

/// The request arrived: check it, then serve it.
void start(state_ptr self, incoming_request &&req) {
  auto &st = self->state;
  st.req = std::move(req);
  st.holds_client = true;
  st.env->sessions->add(st.req.client->worker(), 1);
  st.counted = true;
  switch (st.req.kind) {
  case route::root:
    respond(self, 200, write_json([](json_writer &w) {
              w.StartObject();
              json_field(w, "service", "claude-proxy");
              json_field(w, "health", "/health");
              w.EndObject();
            }));
    break;
  case route::health:
    serve_health(self);
    break;
  case route::metrics:
    serve_metrics(self);
    break;
  case route::messages:
  case route::count_tokens:
  case route::chat_completions: { // OpenAI's shape has a model and messages too
    auto checked = check_message_body(st.req.headers[http::field::content_type], *st.req.body);
    if (auto *err = std::get_if<api_error>(&checked)) {
      st.refused = "bad_request";
      fail(self, std::move(*err));
      break;
    }
    st.facts = std::get<message_facts>(checked);
    get_token(self);
    break;
  }
  case route::models: // and the families relayed without a look at their bodies
  case route::batches:
  case route::files:
  case route::skills:
  case route::agents:
    get_token(self);
    break;
  case route::admin_credentials:
    replace_credentials(self);
    break;
  default:
    // The server answers unknown paths and methods itself.
    assert(!"session for a route the server handles");
    fail(self, make_api_error(500, "unroutable request"));
  }
}

} // namespace

session_actor::behavior_type session_behavior(session_actor::stateful_pointer<session_state> self,
                                              std::shared_ptr<const session_env> env) {
  self->state.env = std::move(env);
  return {
      [self](start_atom, std::shared_ptr<incoming_request> &req) {
        if (req && !self->state.holds_client)
          start(self, std::move(*req));
      },
      [self](relay_done_atom, relay_outcome &outcome, std::shared_ptr<upstream_connection> &c) {
        on_relay_done(self, outcome, c);
      },
      [self](written_atom) { log_and_end(self); },
      [self](retry_atom) { lease_and_relay(self); },
  };
}

} // namespace proxy
