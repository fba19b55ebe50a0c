#pragma once
// The seam between the credential actor and the network: who performs a refresh_token grant.
// The real one speaks HTTPS (http/token_client); tests use fakes.
#include "auth/oauth.hpp"

#include <functional>
#include <string>

namespace proxy {

class token_endpoint {
public:
  virtual ~token_endpoint() = default;
  /// Starts one refresh. `done` is called exactly once, from any thread.
  virtual void refresh(std::string refresh_token, std::function<void(refresh_outcome)> done) = 0;
};

} // namespace proxy
