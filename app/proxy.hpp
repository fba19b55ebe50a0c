#pragma once
// The whole proxy assembled: network threads, the actor system and its long-lived actors, the
// frontend, and in demo mode the bundled simulator. main() and the integration tests use it.
#include "actors/credential_actor.hpp"
#include "app/config.hpp"
#include "http/frontend.hpp"
#include "sim/simulator.hpp"

#include <caf/all.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace proxy {

/// Which credential to use, from the configuration, as the README describes (first found wins).
/// `description` says in words what was chosen, without any secret.
result<credential_setup> select_credentials(const config &cfg, std::string &description);

class proxy_app {
public:
  explicit proxy_app(config cfg);
  ~proxy_app();

  /// Binds, starts threads and actors. Returns the port listened on.
  result<std::uint16_t> start();
  /// Stops accepting, ends the actors and joins the threads.
  void stop();

  const std::string &mode() const { return mode_; }
  const std::string &credential_description() const { return description_; }
  std::string upstream_url() const { return env_ ? env_->upstream.to_string() : std::string{}; }

private:
  config cfg_;
  std::string mode_, description_;
  std::vector<std::unique_ptr<net::io_context>> ioc_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::unique_ptr<caf::actor_system_config> caf_cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<sim::server> simulator_;
  std::unique_ptr<frontend> frontend_;
  std::shared_ptr<session_env> env_;
  bool stopped_ = false;
};

} // namespace proxy
