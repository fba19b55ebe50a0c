// Which container instance serves a request, and what a starting container is given.
import type { Env } from './env';

/**
 * With an API key several instances may serve (the key does not change). Without one the
 * proxy runs on OAuth credentials (or not at all: see startCredential), and refresh tokens rotate:
 * two instances refreshing the same pair would log each other out, so exactly one
 * instance, under a fixed name, owns them.
 */
export type Mode = 'api_key' | 'oauth';

export const OAUTH_OWNER = 'oauth-owner';
export const POOL_PREFIX = 'pool-';
export const DEFAULT_API_KEY_INSTANCES = 2;
/**
 * Must equal `max_instances` under [[containers]] in wrangler.toml (3): more pool names than
 * the platform lets run would only produce "no Container instance available" answers.
 * test/routing.test.ts reads wrangler.toml and fails when the two differ.
 */
export const MAX_INSTANCES = 3;

/** The URL the proxy posts rotated pairs to; the Container class intercepts this host. */
export const SYNC_HOST = 'credentials.internal';
export const CREDENTIALS_SYNC_URL = `http://${SYNC_HOST}/sync`;
export const CONTAINER_PORT = 8080;

/** The proxy's own order: ANTHROPIC_API_KEY wins over any OAuth credentials. */
export function credentialMode(env: Env): Mode {
  return env.ANTHROPIC_API_KEY ? 'api_key' : 'oauth';
}

export function apiKeyInstances(env: Env): number {
  const n = Number.parseInt(env.API_KEY_INSTANCES ?? '', 10);
  if (!Number.isFinite(n) || n < 1) return DEFAULT_API_KEY_INSTANCES;
  return Math.min(n, MAX_INSTANCES);
}

/** Every instance name requests may reach in the current mode (for /health). */
export function instanceNames(env: Env): string[] {
  if (credentialMode(env) === 'oauth') return [OAUTH_OWNER];
  return Array.from({ length: apiKeyInstances(env) }, (_, i) => `${POOL_PREFIX}${i}`);
}

/**
 * The instance for one request: the owner with OAuth, a random pool member with an API key.
 * (This is what getRandom() does, with names of our own so /health can list the pool.)
 */
export function pickInstance(env: Env, random: () => number = Math.random): string {
  const names = instanceNames(env);
  return names[Math.min(names.length - 1, Math.floor(random() * names.length))]!;
}

export const DEFAULT_SLEEP_AFTER = '10m';

/**
 * SLEEP_AFTER as the Containers library accepts it (`^\d+[smh]$`: 30s, 10m, 1h). The library
 * throws on anything else when a request arrives, which made every /v1 request a 500: a
 * malformed value falls back to the default instead, and `error` says so (/health shows it,
 * and the deploy script and the config test refuse it before it is deployed).
 */
export function sleepAfter(env: Env): { value: string; error?: string } {
  const raw = env.SLEEP_AFTER?.trim();
  if (!raw) return { value: DEFAULT_SLEEP_AFTER };
  if (/^\d+[smh]$/.test(raw) && Number.parseInt(raw, 10) > 0) return { value: raw };
  return {
    value: DEFAULT_SLEEP_AFTER,
    error: `SLEEP_AFTER ${JSON.stringify(env.SLEEP_AFTER)} is not a duration like 30s, 10m or 1h: using ${DEFAULT_SLEEP_AFTER}`,
  };
}

/** Public paths that reach the container; everything else is answered at the edge. */
export function isProxiedPath(pathname: string): boolean {
  return pathname.startsWith('/v1/');
}

/**
 * The environment of a starting container. OAuth credentials go only to the owner in
 * OAuth mode: pool members have no use for them and should not hold them.
 * The client key (PROXY_API_KEY) is the edge's to check; the container requires its own
 * per-instance key, `containerKey`, on every route, which only its Durable Object knows
 * (it swaps the client's key for it). So rotating PROXY_API_KEY needs no container restart,
 * and the container trusts nobody but its Durable Object.
 * REQUIRE_CREDENTIALS=1 always: without a credential the proxy exits with a message instead
 * of serving its bundled simulator's demo answers (the Durable Object does not even start
 * a container then, but this holds even if that check were wrong).
 */
export function containerEnv(
  env: Env,
  oauthJson: string | undefined,
  containerKey: string,
): Record<string, string> {
  const vars: Record<string, string> = {
    HOST: '0.0.0.0',
    PORT: String(CONTAINER_PORT),
    CREDENTIALS_SYNC_URL,
    PROXY_API_KEY: containerKey,
    PROXY_ADMIN_KEY: containerKey,
    REQUIRE_CREDENTIALS: '1',
  };
  if (env.ANTHROPIC_API_KEY) vars.ANTHROPIC_API_KEY = env.ANTHROPIC_API_KEY;
  else if (oauthJson) vars.CLAUDE_OAUTH_CREDS = oauthJson;
  return vars;
}
