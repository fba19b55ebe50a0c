// Claude Code OAuth credentials: parsing, and the rule for which pair is the newest.
// Plain code over a tiny storage interface, so it is tested without the Workers runtime.

/** A validated Claude Code credentials document. */
export interface Credentials {
  /** The JSON text as received (decoded from hex if needed); other keys are kept. */
  json: string;
  /** claudeAiOauth.expiresAt, epoch milliseconds: what "newer" means. */
  expiresAt: number;
}

/** What Durable Object storage holds under CREDENTIALS_KEY. */
export interface StoredCredentials extends Credentials {
  source: 'secret' | 'sync' | 'push';
  storedAt: number;
}

/** The subset of DurableObjectStorage this module needs. */
export interface KeyValue {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
}

export const CREDENTIALS_KEY = 'proxy:oauth-credentials';

/** Credentials documents are a few hundred bytes; anything this large is not one. */
export const MAX_CREDENTIALS_BYTES = 64 * 1024;

export type ParseResult = { ok: true; credentials: Credentials } | { ok: false; error: string };

/** The keychain may hold the JSON hex-encoded; accept both forms, as the proxy does. */
export function decodeCredentialsText(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length > 0 && trimmed.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(trimmed)) {
    const bytes = new Uint8Array(trimmed.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(trimmed.slice(2 * i, 2 * i + 2), 16);
    return new TextDecoder().decode(bytes).trim();
  }
  return trimmed;
}

/**
 * Parse and check the shape {"claudeAiOauth":{"accessToken","refreshToken","expiresAt",...}}.
 * Error messages never quote the input: it is a secret.
 */
export function parseCredentials(text: string): ParseResult {
  if (text.length > MAX_CREDENTIALS_BYTES) return { ok: false, error: 'credentials too large' };
  const json = decodeCredentialsText(text);
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return { ok: false, error: 'credentials are not JSON (raw or hex-encoded)' };
  }
  const oauth = (doc as { claudeAiOauth?: unknown } | null)?.claudeAiOauth as
    | { accessToken?: unknown; refreshToken?: unknown; expiresAt?: unknown }
    | undefined;
  if (typeof oauth !== 'object' || oauth === null) return { ok: false, error: 'claudeAiOauth object missing' };
  if (typeof oauth.accessToken !== 'string' || oauth.accessToken === '')
    return { ok: false, error: 'claudeAiOauth.accessToken missing' };
  if (typeof oauth.refreshToken !== 'string' || oauth.refreshToken === '')
    return { ok: false, error: 'claudeAiOauth.refreshToken missing' };
  if (typeof oauth.expiresAt !== 'number' || !Number.isFinite(oauth.expiresAt))
    return { ok: false, error: 'claudeAiOauth.expiresAt missing (epoch milliseconds)' };
  return { ok: true, credentials: { json, expiresAt: oauth.expiresAt } };
}

/**
 * The pair a starting container gets: the stored one, or the CLAUDE_OAUTH_CREDS secret when
 * storage is empty or holds an older pair (by expiresAt; a tie goes to storage, which is
 * what the container last used). An unparsable secret is ignored in favour of storage.
 */
export function newestCredentials(
  stored: Credentials | undefined,
  secret: string | undefined,
): Credentials | undefined {
  const parsed = secret ? parseCredentials(secret) : undefined;
  const fromSecret = parsed?.ok ? parsed.credentials : undefined;
  if (!stored) return fromSecret;
  if (!fromSecret) return stored;
  return fromSecret.expiresAt > stored.expiresAt ? fromSecret : stored;
}

export async function loadStored(storage: KeyValue): Promise<StoredCredentials | undefined> {
  return storage.get<StoredCredentials>(CREDENTIALS_KEY);
}

export type StoreOutcome =
  | { stored: true; expiresAt: number }
  | { stored: false; expiresAt: number; reason: 'stored_pair_is_newer' };

/**
 * Write a pair. A pushed pair is refused when storage already holds a strictly newer one
 * (a stale push must not replace a pair whose refresh token is the live one); `force`
 * overrides that, for a user who knows the pushed pair is the right one. A synced pair is
 * always written: it comes from the container, which is about to use it, so it is the live
 * pair whatever its expiry says.
 */
export async function storeCredentials(
  storage: KeyValue,
  credentials: Credentials,
  source: StoredCredentials['source'],
  options: { force?: boolean; now?: number } = {},
): Promise<StoreOutcome> {
  if (source !== 'sync' && !options.force) {
    const current = await loadStored(storage);
    if (current && current.expiresAt > credentials.expiresAt) {
      return { stored: false, expiresAt: current.expiresAt, reason: 'stored_pair_is_newer' };
    }
  }
  const record: StoredCredentials = { ...credentials, source, storedAt: options.now ?? Date.now() };
  await storage.put(CREDENTIALS_KEY, record);
  return { stored: true, expiresAt: credentials.expiresAt };
}

/** The secrets that decide what a starting container is given. */
export interface CredentialSecrets {
  ANTHROPIC_API_KEY?: string;
  CLAUDE_OAUTH_CREDS?: string;
}

/** What a container would start with, or why it cannot start. */
export type StartCredential =
  | { kind: 'api_key' }
  | { kind: 'oauth'; json: string }
  | { kind: 'none'; reason: string };

/**
 * The credential a starting container gets: the API key when set (the proxy's own first
 * choice), else the newest OAuth pair (see newestCredentials), else none. With none the
 * container is not started at all: the edge answers 503 instead, and the proxy, which is
 * always started with REQUIRE_CREDENTIALS=1, never falls back to its demo simulator.
 */
export function startCredential(secrets: CredentialSecrets, stored: Credentials | undefined): StartCredential {
  if (secrets.ANTHROPIC_API_KEY) return { kind: 'api_key' };
  const newest = newestCredentials(stored, secrets.CLAUDE_OAUTH_CREDS);
  if (newest) return { kind: 'oauth', json: newest.json };
  const parsed = secrets.CLAUDE_OAUTH_CREDS ? parseCredentials(secrets.CLAUDE_OAUTH_CREDS) : undefined;
  const reason =
    parsed && !parsed.ok
      ? `the CLAUDE_OAUTH_CREDS secret is not usable (${parsed.error}) and no OAuth pair is stored`
      : 'neither ANTHROPIC_API_KEY nor CLAUDE_OAUTH_CREDS is set and no OAuth pair is stored';
  return { kind: 'none', reason };
}

/** The text of the edge's 503 when there is no credential. Never quotes a secret. */
export function noCredentialMessage(reason: string): string {
  return (
    `No credential is configured for the proxy: ${reason}. ` +
    'Set an API key with `npx wrangler secret put ANTHROPIC_API_KEY --config ../wrangler.toml` (in edge/), ' +
    'or deploy Claude Code OAuth credentials with `npm run deploy` (or `npm run creds:push`) ' +
    'from a machine logged in to Claude Code. See DEPLOYMENT.md.'
  );
}
