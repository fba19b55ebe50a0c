#pragma once
// The secrets this process holds (API keys, OAuth access and refresh tokens, the proxy and admin
// keys), so that nothing it writes shows one: every log line, error message, /health and admin
// answer passes through redact(), including text an upstream or token endpoint sent back (which
// may echo a secret). Secrets shorter than min_secret_length are not tracked: redacting a
// two-letter test key would mangle everything.
#include <cstddef>
#include <string>
#include <string_view>

namespace proxy {

constexpr std::size_t min_secret_length = 8;

/// Remembers `secret` (from any thread). The most recent 64 are kept.
void add_secret(std::string_view secret);

/// `text` with every known secret replaced by "[redacted]".
std::string redact(std::string_view text);

/// Whether `text` shows a known secret.
bool contains_secret(std::string_view text);

/// Redacts `text` in place; returns whether anything was replaced.
bool redact_in_place(std::string &text);

} // namespace proxy
