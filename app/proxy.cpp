#include "app/proxy.hpp"

#include "actors/pool_actor.hpp"
#include "auth/credential_store.hpp"
#include "http/token_client.hpp"

#include <sys/stat.h>

#include <random>

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

  std::string upstream = cfg_.upstream_url;
  if (setup.type == kind::simulator) {
    // Demo mode: a simulator on a loopback port plays the upstream, with a key of its own.
    sim::options so;
    so.api_key = setup.secret = random_key();
    so.event_delay = std::chrono::milliseconds(30);
    simulator_ = std::make_unique<sim::server>(so);
    simulator_->start();
    upstream = simulator_->base_url();
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

  for (int i = 0; i < cfg_.io_threads; ++i) {
    ioc_.push_back(std::make_unique<net::io_context>(1));
    work_.push_back(net::make_work_guard(*ioc_.back()));
  }

  // A sharing scheduler with few threads: CAF's default work stealing spins on a small box.
  caf_cfg_ = std::make_unique<caf::actor_system_config>();
  caf_cfg_->set("scheduler.policy", caf::atom("sharing"));
  caf_cfg_->set("scheduler.max-threads", static_cast<size_t>(cfg_.actor_threads));
  caf_cfg_->set("logger.verbosity", caf::atom("quiet"));
  system_ = std::make_unique<caf::actor_system>(*caf_cfg_);

  setup.endpoint = std::make_shared<token_client>(ioc_.front()->get_executor(), token_url.value(),
                                                  tls, cfg_.oauth_client_id, cfg_.connect_timeout,
                                                  std::chrono::seconds(30));
  if (!cfg_.credentials_sync_url.empty()) {
    // Not held to the https rule: at the edge this is an intercepted call to our own Durable
    // Object that never leaves the machine.
    auto sync_url = parse_url(cfg_.credentials_sync_url);
    if (!sync_url)
      return failure{"credentials sync URL: " + sync_url.error()};
    setup.sink = std::make_shared<sync_client>(ioc_.front()->get_executor(), sync_url.value(), tls,
                                               cfg_.connect_timeout, std::chrono::seconds(30));
  }
  auto credentials = system_->spawn(credential_actor, std::move(setup));

  pool_setup ps;
  ps.max_connections = cfg_.pool_max_connections;
  ps.idle_timeout = cfg_.pool_idle_timeout;
  ps.workers = ioc_.size();
  auto next_id = std::make_shared<std::atomic<std::uint64_t>>(0);
  ps.make_connection = [this, url = url.value(), tls, next_id](std::size_t worker) {
    return std::make_shared<upstream_connection>(ioc_[worker]->get_executor(), url, tls, worker,
                                                 ++*next_id);
  };
  auto pool = system_->spawn(pool_actor, std::move(ps));

  env_ = std::make_shared<session_env>();
  env_->credentials = credentials;
  env_->pool = pool;
  env_->upstream = url.value();
  env_->mode = mode_;
  env_->connect_timeout = cfg_.connect_timeout;
  env_->upstream_timeout = cfg_.upstream_timeout;
  env_->stream_idle_timeout = cfg_.stream_idle_timeout;
  env_->log_requests = cfg_.log_requests;

  frontend_options fo;
  fo.host = cfg_.host;
  fo.port = cfg_.port;
  fo.max_body_bytes = cfg_.max_body_bytes;
  fo.max_header_bytes = cfg_.max_header_bytes;
  fo.client_idle_timeout = cfg_.client_idle_timeout;
  fo.client_write_timeout = cfg_.client_write_timeout;
  fo.proxy_api_key = cfg_.proxy_api_key;
  fo.admin_key = cfg_.admin_key;
  fo.log_requests = cfg_.log_requests;
  std::vector<net::io_context *> workers;
  for (auto &c : ioc_)
    workers.push_back(c.get());
  std::shared_ptr<const session_env> env = env_;
  caf::actor_system *system = system_.get();
  frontend_ = std::make_unique<frontend>(workers, fo, [system, env](session_request req) {
    system->spawn(session_actor, env, std::move(req));
  });
  auto port = frontend_->listen();
  if (!port)
    return port;
  frontend_->start();
  for (auto &c : ioc_)
    threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  return port;
}

void proxy_app::stop() {
  if (stopped_ || !system_)
    return;
  stopped_ = true;
  frontend_->stop();
  // Let requests in flight finish for a moment (a SIGTERM during a stream), then cut them.
  for (int i = 0; i < 500 && env_->in_flight->load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  caf::anon_send_exit(env_->credentials, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(env_->pool, caf::exit_reason::user_shutdown);
  // Connections in progress are cut: a stopping proxy cannot finish streams it no longer serves.
  for (auto &c : ioc_)
    c->stop();
  for (auto &t : threads_)
    t.join();
  threads_.clear();
  frontend_.reset();
  env_.reset();
  system_->await_actors_before_shutdown(false);
  system_.reset();
  work_.clear();
  ioc_.clear();
  if (simulator_)
    simulator_->stop();
}

} // namespace proxy
