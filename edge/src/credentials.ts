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
 * Write a pair unless storage already holds a strictly newer one (a stale write must not
 * replace a pair whose refresh token is the live one). `force` overrides that, for a user
 * who knows the pushed pair is the right one.
 */
export async function storeCredentials(
  storage: KeyValue,
  credentials: Credentials,
  source: StoredCredentials['source'],
  options: { force?: boolean; now?: number } = {},
): Promise<StoreOutcome> {
  const current = await loadStored(storage);
  if (current && current.expiresAt > credentials.expiresAt && !options.force) {
    return { stored: false, expiresAt: current.expiresAt, reason: 'stored_pair_is_newer' };
  }
  const record: StoredCredentials = { ...credentials, source, storedAt: options.now ?? Date.now() };
  await storage.put(CREDENTIALS_KEY, record);
  return { stored: true, expiresAt: credentials.expiresAt };
}
