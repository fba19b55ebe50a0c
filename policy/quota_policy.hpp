#pragma once
// How the upstream says that a subscription credential may not be used the way it was. Pure.
//
// Since April 2026 the upstream answers third-party traffic on subscription (Claude Pro/Max)
// OAuth credentials with 400 invalid_request_error "Third-party apps now draw from your extra
// usage, not your plan limits. ..." unless the account has extra usage enabled. The proxy
// relays that answer as it came and tells the operator what it means.
#include <string_view>

namespace proxy {

/// Is this upstream error the refusal of third-party traffic on a subscription credential?
bool is_extra_usage_refusal(unsigned status, std::string_view error_type, std::string_view message);

/// What the operator can do about it, in plain words.
inline constexpr std::string_view extra_usage_hint =
    "Anthropic refuses third-party use of subscription (Claude Pro/Max) credentials unless the "
    "account has extra usage, which is billed separately from the plan. Enable extra usage for "
    "the account, or run the proxy with an API key (ANTHROPIC_API_KEY), the supported way.";

/// What it means when the upstream's unified status says the plan's limit is reached.
inline constexpr std::string_view plan_limit_hint =
    "The subscription's usage limit is reached (anthropic-ratelimit-unified-status: rejected); "
    "requests are refused until the reset time the upstream gives, or extra usage applies.";

} // namespace proxy
