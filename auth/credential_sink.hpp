#pragma once
// The seam for keeping rotated credentials somewhere that outlives this process (at the edge:
// the Durable Object's storage). The real one POSTs (http/token_client); tests use fakes.
#include <functional>
#include <string>

namespace proxy {

class credential_sink {
public:
  virtual ~credential_sink() = default;
  /// Stores the Claude Code credentials JSON. `done` is called exactly once, from any thread,
  /// with an empty string when stored and a reason (never containing a token) when not.
  virtual void store(std::string credentials_json, std::function<void(std::string)> done) = 0;
};

} // namespace proxy
