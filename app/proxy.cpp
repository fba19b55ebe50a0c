#include "app/proxy.hpp"

#include "actors/io_scheduler.hpp"
#include "actors/pool_actor.hpp"
#include "actors/store_actor.hpp"
#include "core/clock.hpp"
#include "core/redact.hpp"
#include "io/credential_file.hpp"
#include "io/token_client.hpp"
#include "io/upstream_connection.hpp"

#include <sched.h>
#include <sys/stat.h>

#include <random>
#include <thread>

namespace proxy {
namespace {

bool file_exists(const std::string &path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

std::string random_key() {
  std::random_device rd;
  std::string key = "demo-";
  for (int i = 0; i < 24; ++i)
    key += "0123456789abcdef"[rd() % 16];
  return key;
}

/// CPUs this process may run on.
std::size_t usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace

result<credential_setup> select_credentials(const config &cfg, std::string &description) {
  credential_setup s;
  s.refresh_margin = cfg.refresh_margin;
  using kind = credential_setup::kind;
  if (cfg.demo && cfg.require_credentials)
    return failure{"--demo and REQUIRE_CREDENTIALS contradict each other"};
  if (cfg.demo) {
    s.type = kind::simulator;
    description = "demo mode (--demo)";
  } else if (!cfg.anthropic_api_key.empty()) {
    s.type = kind::api_key;
    s.secret = cfg.anthropic_api_key;
    description = "API key from ANTHROPIC_API_KEY";
  } else if (!cfg.oauth_creds_json.empty()) {
    auto parsed = parse_claude_credentials(cfg.oauth_creds_json);
    if (!parsed)
      return failure{"CLAUDE_OAUTH_CREDS: " + parsed.error()};
    s.type = kind::oauth;
    s.tokens = parsed.value();
    s.source_json = cfg.oauth_creds_json;
    description = "OAuth credentials from CLAUDE_OAUTH_CREDS";
  } else if (file_exists(cfg.credentials_file)) {
    // Read once here, before any network thread exists; later reads go through the store actor.
    auto text = read_text_file(cfg.credentials_file);
    if (!text)
      return failure{text.error()};
    auto parsed = parse_claude_credentials(text.value());
    if (!parsed)
      return failure{cfg.credentials_file + ": " + parsed.error()};
    s.type = kind::oauth;
    s.tokens = parsed.value();
    s.store_path = cfg.credentials_file;
    description = "OAuth credentials from " + cfg.credentials_file + " (rewritten on refresh)";
  } else if (!cfg.oauth_static_token.empty()) {
    s.type = kind::bearer;
    s.secret = cfg.oauth_static_token;
    description = "OAuth token from CLAUDE_CODE_OAUTH_TOKEN (no refresh)";
  } else if (cfg.require_credentials) {
    return failure{"no credential found (ANTHROPIC_API_KEY, CLAUDE_OAUTH_CREDS, " +
                   cfg.credentials_file +
                   ", CLAUDE_CODE_OAUTH_TOKEN) and REQUIRE_CREDENTIALS is set, so no demo mode"};
  } else {
    s.type = kind::simulator;
    description = "no credentials found: DEMO MODE";
  }
  return s;
}

proxy_app::proxy_app(config cfg) : cfg_(std::move(cfg)) {}

proxy_app::~proxy_app() {
  stop();
}

result<std::uint16_t> proxy_app::start() {
  for (const auto *secret :
       {&cfg_.anthropic_api_key, &cfg_.oauth_static_token, &cfg_.proxy_api_key, &cfg_.admin_key})
    add_secret(*secret); // OAuth tokens: the credential actor adds those it holds
  auto creds = select_credentials(cfg_, description_);
  if (!creds)
    return failure{creds.error()};
  auto setup = std::move(creds.value());
  setup.now_ms = unix_now_ms;
  using kind = credential_setup::kind;
  mode_ = setup.type == kind::api_key  ? "api_key"
          : setup.type == kind::oauth  ? "oauth"
          : setup.type == kind::bearer ? "bearer"
                                       : "simulator";

  // Capacity: whatever the descriptor limit allows, unless the user asked for less.
  fds_ = raise_fd_limit();
  capacity_ = streams_for(fds_.soft);
  if (cfg_.pool_max_connections != 0)
    capacity_ = std::min(capacity_, cfg_.pool_max_connections);
  threads_ = cfg_.io_threads > 0 ? static_cast<std::size_t>(cfg_.io_threads) : usable_cpus();

  std::string upstream = cfg_.upstream_url;
  if (setup.type == kind::simulator) {
    // Demo mode: the simulator plays the upstream on a loopback port, with a key of its own.
    setup.secret = random_key();
    auto sim = demo_upstream::start(setup.secret);
    if (!sim)
      return failure{sim.error()};
    demo_ = std::move(sim.value());
    upstream = demo_->base_url();
  }
  auto url = parse_url(upstream);
  if (!url)
    return failure{"upstream URL " + upstream + ": " + url.error()};
  auto token_url = parse_url(cfg_.token_url);
  if (!token_url)
    return failure{"token URL " + cfg_.token_url + ": " + token_url.error()};
  // Plain HTTP would carry the credential across the network unencrypted: local upstreams only.
  for (const auto *u : {&url.value(), &token_url.value()})
    if (!u->tls && !is_loopback_host(u->host))
      return failure{"refusing plain http:// to " + u->host +
                     ": the credential would travel unencrypted (plain HTTP is only for "
                     "upstreams on this machine; use https://)"};
  std::string tls_error;
  auto tls = make_client_tls_context(cfg_.upstream_ca_file, tls_error);
  if (!tls)
    return failure{tls_error};

  // The actor system's scheduler runs the network threads: actors and sockets share them.
  caf_cfg_ = std::make_unique<caf::actor_system_config>();
  caf_cfg_->load<io_scheduler>();
  caf_cfg_->set("scheduler.max-threads", threads_);
  caf_cfg_->set("scheduler.max-throughput", size_t{64});
  caf_cfg_->set("logger.verbosity", caf::atom("quiet"));
  system_ = std::make_unique<caf::actor_system>(*caf_cfg_);
  auto contexts = io_scheduler::of(*system_).contexts();

  auto token_target = std::make_shared<upstream_target>(upstream_target{token_url.value(), tls});
  setup.endpoint = std::make_shared<token_client>(contexts.front()->get_executor(), token_target,
                                                  cfg_.oauth_client_id, cfg_.connect_timeout,
                                                  std::chrono::seconds(30));
  if (!cfg_.credentials_sync_url.empty()) {
    // Not held to the https rule: at the edge this is an intercepted call to our own Durable
    // Object that never leaves the machine.
    auto sync_url = parse_url(cfg_.credentials_sync_url);
    if (!sync_url)
      return failure{"credentials sync URL: " + sync_url.error()};
    setup.sink = std::make_shared<sync_client>(
        contexts.front()->get_executor(),
        std::make_shared<upstream_target>(upstream_target{sync_url.value(), tls}),
        cfg_.connect_timeout, std::chrono::seconds(30));
  }
  if (!setup.store_path.empty()) {
    store_ = system_->spawn<caf::detached>(store_behavior, setup.store_path);
    setup.store = store_;
  }
  auto board = std::make_shared<token_board>();
  setup.board = board;

  env_ = std::make_shared<session_env>();
  env_->credentials = system_->spawn(credential_behavior, std::move(setup));
  env_->tokens = board;
  auto open = std::make_shared<std::atomic<std::size_t>>(0);
  auto upstream_at = std::make_shared<const upstream_target>(upstream_target{url.value(), tls});
  auto next_id = std::make_shared<std::atomic<std::uint64_t>>(0);
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    pool_setup ps;
    ps.open = open;
    ps.capacity = capacity_;
    ps.idle_timeout = cfg_.pool_idle_timeout;
    ps.make_connection = [executor = contexts[i]->get_executor(), upstream_at, next_id, i] {
      return std::make_shared<upstream_connection>(executor, upstream_at, i, ++*next_id);
    };
    env_->pools.push_back(system_->spawn(pool_behavior, std::move(ps)));
  }
  env_->upstream = url.value();
  env_->mode = mode_;
  env_->capacity = capacity_;
  env_->connect_timeout = cfg_.connect_timeout;
  env_->upstream_timeout = cfg_.upstream_timeout;
  env_->stream_idle_timeout = cfg_.stream_idle_timeout;
  env_->sse_keepalive = cfg_.sse_keepalive;
  env_->retries = cfg_.retries;
  env_->retry_max_wait = cfg_.retry_max_wait;
  env_->log_requests = cfg_.log_requests;
  env_->in_flight = std::make_shared<in_flight_counter>(contexts.size());
  env_->sessions = std::make_shared<in_flight_counter>(contexts.size());
  // Each request in flight may hold a stream: more than the capacity could only fail later.
  env_->max_in_flight = cfg_.max_in_flight != 0 ? cfg_.max_in_flight : capacity_;
  env_->metrics = std::make_shared<proxy_metrics>(contexts.size());

  server_options so;
  so.host = cfg_.host;
  so.port = cfg_.port;
  so.max_body_bytes = cfg_.max_body_bytes;
  so.max_header_bytes = cfg_.max_header_bytes;
  so.client_idle_timeout = cfg_.client_idle_timeout;
  so.client_write_timeout = cfg_.client_write_timeout;
  so.proxy_api_key = cfg_.proxy_api_key;
  so.admin_key = cfg_.admin_key;
  so.log_requests = cfg_.log_requests;
  so.in_flight = env_->in_flight;
  so.draining = env_->draining; // the server sets it, /health and /metrics report it
  so.max_in_flight = env_->max_in_flight;
  so.metrics = env_->metrics;
  so.metrics_without_key = is_loopback_host(cfg_.host);
  std::shared_ptr<const session_env> env = env_;
  next_session_.resize(contexts.size());
  // Runs on the client's network thread, so the session starts there too: the one spawned for
  // this thread in advance. The next one is spawned once this request went upstream (the post
  // runs after the relay's first wait), off the request's path.
  server_ = std::make_unique<server>(contexts, so, [this, env](incoming_request req) {
    auto worker = req.client->worker() % next_session_.size();
    auto executor = req.client->executor();
    auto session = std::exchange(next_session_[worker], nullptr);
    if (!session)
      session = system_->spawn(session_behavior, env);
    caf::anon_send(session, start_atom::value, std::make_shared<incoming_request>(std::move(req)));
    net::post(executor, [this, env, worker] {
      if (!next_session_[worker])
        next_session_[worker] = system_->spawn(session_behavior, env);
    });
  });
  auto port = server_->listen();
  if (!port)
    return port;
  server_->start();
  return port;
}

void proxy_app::drain() {
  if (!server_ || server_->draining())
    return;
  caf::anon_send(env_->credentials, drain_atom::value);
  server_->drain();
}

int proxy_app::in_flight() const {
  return env_ ? env_->in_flight->total() : 0;
}

void proxy_app::cut_off() {
  if (server_)
    server_->cut_off_all();
}

void proxy_app::stop() {
  if (stopped_ || !system_)
    return;
  stopped_ = true;
  // Actors must end while the network threads still run: CAF destroys an actor's state only
  // when it ends by itself, not when a stopped scheduler releases it.
  auto settle = [this](std::chrono::milliseconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (env_ && (env_->in_flight->total() > 0 || env_->sessions->total() > 0) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  if (server_) {
    // Whatever is still in flight (drain() and cut_off() come first on a signal) ends now.
    server_->stop();
    server_->cut_off_all();
    settle(std::chrono::seconds(2));
    server_->close_all();
    settle(std::chrono::seconds(2));
  }
  {
    caf::scoped_actor self{*system_};
    std::vector<caf::actor> long_lived;
    if (env_) {
      long_lived.push_back(caf::actor_cast<caf::actor>(env_->credentials));
      for (auto &pool : env_->pools)
        long_lived.push_back(caf::actor_cast<caf::actor>(pool));
    }
    if (store_)
      long_lived.push_back(caf::actor_cast<caf::actor>(store_));
    for (auto &a : long_lived) {
      self->monitor(a);
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
    bool waiting = true;
    for (std::size_t i = 0; i < long_lived.size() && waiting; ++i)
      self->receive([](caf::down_msg &) {},
                    caf::after(std::chrono::seconds(2)) >> [&] { waiting = false; });
  }
  // Stop the network threads before anything they run on goes away; what is still pending on
  // them (if anything refused to end in time) is destroyed with the actor system.
  io_scheduler::of(*system_).halt();
  server_.reset();
  next_session_.clear(); // idle sessions: dropping the last handle ends them
  env_.reset();
  store_ = nullptr;
  system_->await_actors_before_shutdown(false);
  system_.reset();
  demo_.reset();
}

} // namespace proxy
