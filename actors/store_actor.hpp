#pragma once
// The credential store actor: reads and durably writes one credentials file. Those calls block
// (fsync can take a long time), so it is spawned detached, on a thread of its own, and never
// stalls a network thread: `system.spawn<caf::detached>(store_behavior, path)`.
#include "actors/protocol.hpp"

namespace proxy {

store_actor::behavior_type store_behavior(store_actor::pointer self, std::string path);

} // namespace proxy
