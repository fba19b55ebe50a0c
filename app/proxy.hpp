#pragma once
// The whole proxy assembled: the actor system whose scheduler runs the network threads, the
// long-lived actors (credential, credential store, one upstream pool per thread), the server,
// and in demo mode the bundled simulator as a child process. main() and the integration tests
// use it.
#include "actors/credential_actor.hpp"
#include "actors/session_actor.hpp"
#include "app/capacity.hpp"
#include "app/config.hpp"
#include "app/demo_upstream.hpp"
#include "io/server.hpp"

#include <caf/all.hpp>

#include <memory>
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
  /// Shutting down gently (SIGTERM): API requests get 529 with retry-after, /health says
  /// "draining" (503), connections close after their current response, no refresh starts, and
  /// requests in flight go on.
  void drain();
  /// Requests in flight (the /health ones included).
  int in_flight() const;
  /// Ends the requests still in flight: streams with an error event, waits with a 529.
  void cut_off();
  /// Ends what is still in flight (as cut_off()), stops accepting, ends everything.
  void stop();

  const std::string &mode() const { return mode_; }
  const std::string &credential_description() const { return description_; }
  std::string upstream_url() const { return env_ ? env_->upstream.to_string() : std::string{}; }
  /// Streams (upstream connections) the proxy holds at most.
  std::size_t capacity() const { return capacity_; }
  const fd_limits &descriptors() const { return fds_; }
  std::size_t threads() const { return threads_; }

private:
  config cfg_;
  std::string mode_, description_;
  std::size_t capacity_ = 0, threads_ = 0;
  fd_limits fds_;
  std::unique_ptr<demo_upstream> demo_;
  std::unique_ptr<caf::actor_system_config> caf_cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<server> server_;
  std::shared_ptr<session_env> env_;
  /// Per network thread, the session that will take the next request there: spawned ahead, so
  /// spawning is not on a request's path. Each is touched only on its thread (and after the
  /// threads stopped).
  std::vector<session_actor> next_session_;
  store_actor store_;
  bool stopped_ = false;
};

} // namespace proxy
