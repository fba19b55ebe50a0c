#pragma once
// When a request the upstream refused is worth another attempt, and how long to wait first.
// Pure. The relay asks only while nothing has reached the client yet.
#include <chrono>
#include <optional>
#include <string_view>

namespace proxy {

/// A status worth retrying: 429, 500, 502, 503, 504, 529; others when the upstream says
/// x-should-retry: true, except 400, 401, 403, 404 and 413 which never are. x-should-retry:
/// false vetoes any retry.
bool retryable_status(unsigned status, std::string_view should_retry);

/// The wait before retry number `attempt` (0 for the first): the upstream's retry-after-ms, else
/// its retry-after (seconds), else exponential backoff from 0.5 s (capped at 8 s) with `jitter`
/// (0..1) taking up to a quarter off. None when the upstream asks for more than `max_wait`: its
/// answer then goes to the client as it came.
std::optional<std::chrono::milliseconds> retry_wait(std::string_view retry_after,
                                                    std::string_view retry_after_ms, int attempt,
                                                    std::chrono::milliseconds max_wait,
                                                    double jitter);

} // namespace proxy
