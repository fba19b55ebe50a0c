import type { ProxyContainer } from './container';

/** Bindings, vars (wrangler.toml) and secrets (`wrangler secret put`) the Worker sees. */
export interface Env {
  PROXY_CONTAINER: DurableObjectNamespace<ProxyContainer>;

  // Secrets. Each is optional: the deploy script sets what the user has.
  ANTHROPIC_API_KEY?: string;
  CLAUDE_OAUTH_CREDS?: string;
  PROXY_API_KEY?: string;
  ADMIN_API_KEY?: string;

  // Vars from wrangler.toml.
  SLEEP_AFTER?: string;
  API_KEY_INSTANCES?: string;
}
