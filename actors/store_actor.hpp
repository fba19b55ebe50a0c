#pragma once
// The credential store actor: locks, reads and durably writes one credentials file. Those calls
// block (fsync can take a long time), so it is spawned detached, on a thread of its own, and never
// stalls a network thread: `system.spawn<caf::detached>(store_behavior, path)`.
#include "actors/protocol.hpp"
#include "io/credential_file.hpp"

#include <chrono>
#include <optional>

namespace proxy {

struct store_state {
  std::optional<file_lock> lock; ///< held from a load until the save or unlock after it
  static inline const char *name = "credential_store";
};

/// How long a load waits for another process's refresh (a grant and a durable write).
inline constexpr std::chrono::seconds store_lock_timeout{20};

store_actor::behavior_type store_behavior(store_actor::stateful_pointer<store_state> self,
                                          std::string path);

} // namespace proxy
