import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_KEY,
  decodeCredentialsText,
  newestCredentials,
  noCredentialMessage,
  parseCredentials,
  startCredential,
  storeCredentials,
} from '../src/credentials';
import { MemoryStorage, creds } from './support/storage';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describe('parseCredentials', () => {
  it('accepts raw JSON and keeps it as given, other keys included', () => {
    const json = creds(1_900_000_000_000, 'a', { mcpOAuth: { x: 1 } });
    const parsed = parseCredentials(json);
    expect(parsed).toEqual({ ok: true, credentials: { json, expiresAt: 1_900_000_000_000 } });
  });

  it('accepts hex-encoded JSON (macOS keychain), upper or lower case, with a newline', () => {
    const json = creds(1_900_000_000_000);
    expect(parseCredentials(hex(json) + '\n')).toEqual({ ok: true, credentials: { json, expiresAt: 1_900_000_000_000 } });
    expect(decodeCredentialsText(hex(json).toUpperCase())).toBe(json);
  });

  it('rejects wrong shapes without quoting the input', () => {
    const cases: [string, string][] = [
      ['not json sk-ant-ort01-secret', 'credentials are not JSON (raw or hex-encoded)'],
      ['{"accessToken":"sk-ant-oat01-secret"}', 'claudeAiOauth object missing'],
      ['{"claudeAiOauth":{"refreshToken":"r","expiresAt":1}}', 'claudeAiOauth.accessToken missing'],
      ['{"claudeAiOauth":{"accessToken":"a","expiresAt":1}}', 'claudeAiOauth.refreshToken missing'],
      ['{"claudeAiOauth":{"accessToken":"a","refreshToken":"r","expiresAt":"soon"}}', 'claudeAiOauth.expiresAt missing (epoch milliseconds)'],
      ['null', 'claudeAiOauth object missing'],
    ];
    for (const [input, error] of cases) {
      const parsed = parseCredentials(input);
      expect(parsed).toEqual({ ok: false, error });
    }
  });

  it('rejects oversized input', () => {
    expect(parseCredentials(' '.repeat(70_000))).toEqual({ ok: false, error: 'credentials too large' });
  });
});

describe('newestCredentials', () => {
  const older = { json: creds(1000, 'old'), expiresAt: 1000 };
  const newer = { json: creds(2000, 'new'), expiresAt: 2000 };

  it('uses the secret when storage is empty', () => {
    expect(newestCredentials(undefined, newer.json)).toEqual(newer);
  });
  it('uses storage when it is newer than the secret (the container refreshed since deploy)', () => {
    expect(newestCredentials(newer, older.json)).toEqual(newer);
  });
  it('uses the secret when it is newer than storage (a fresh login was deployed)', () => {
    expect(newestCredentials(older, newer.json)).toEqual(newer);
  });
  it('keeps storage on a tie, and when the secret is missing or unusable', () => {
    const sameExpiry = creds(1000, 'other');
    expect(newestCredentials(older, sameExpiry)).toEqual(older);
    expect(newestCredentials(older, undefined)).toEqual(older);
    expect(newestCredentials(older, 'garbage')).toEqual(older);
    expect(newestCredentials(undefined, 'garbage')).toBeUndefined();
    expect(newestCredentials(undefined, undefined)).toBeUndefined();
  });
  it('reads a hex secret', () => {
    expect(newestCredentials(older, hex(newer.json))).toEqual(newer);
  });
});

describe('storeCredentials', () => {
  it('stores a first pair with its source and time', async () => {
    const storage = new MemoryStorage();
    const out = await storeCredentials(storage, { json: creds(1000), expiresAt: 1000 }, 'sync', { now: 42 });
    expect(out).toEqual({ stored: true, expiresAt: 1000 });
    expect(storage.data.get(CREDENTIALS_KEY)).toEqual({ json: creds(1000), expiresAt: 1000, source: 'sync', storedAt: 42 });
  });

  it('never goes back to an older pair on a push unless forced', async () => {
    const storage = new MemoryStorage();
    await storeCredentials(storage, { json: creds(2000, 'new'), expiresAt: 2000 }, 'sync');
    const refused = await storeCredentials(storage, { json: creds(1000, 'old'), expiresAt: 1000 }, 'push');
    expect(refused).toEqual({ stored: false, expiresAt: 2000, reason: 'stored_pair_is_newer' });
    expect((storage.data.get(CREDENTIALS_KEY) as { json: string }).json).toBe(creds(2000, 'new'));

    const forced = await storeCredentials(storage, { json: creds(1000, 'old'), expiresAt: 1000 }, 'push', { force: true });
    expect(forced).toEqual({ stored: true, expiresAt: 1000 });
    expect((storage.data.get(CREDENTIALS_KEY) as { json: string }).json).toBe(creds(1000, 'old'));
  });

  it('always stores a synced pair, even one that expires earlier: the container is using it', async () => {
    const storage = new MemoryStorage();
    await storeCredentials(storage, { json: creds(2000, 'pushed'), expiresAt: 2000 }, 'push');
    const out = await storeCredentials(storage, { json: creds(1000, 'live'), expiresAt: 1000 }, 'sync', { now: 7 });
    expect(out).toEqual({ stored: true, expiresAt: 1000 });
    expect(storage.data.get(CREDENTIALS_KEY)).toEqual({ json: creds(1000, 'live'), expiresAt: 1000, source: 'sync', storedAt: 7 });
    expect(storage.puts).toHaveLength(2);
  });

  it('replaces a pair with the same expiry (the same pair sent again)', async () => {
    const storage = new MemoryStorage();
    await storeCredentials(storage, { json: creds(1000, 'x'), expiresAt: 1000 }, 'sync');
    expect(await storeCredentials(storage, { json: creds(1000, 'y'), expiresAt: 1000 }, 'push')).toEqual({ stored: true, expiresAt: 1000 });
  });
});

describe('startCredential', () => {
  const stored = { json: creds(2000, 'stored'), expiresAt: 2000 };

  it('an API key wins over any OAuth pair', () => {
    expect(startCredential({ ANTHROPIC_API_KEY: 'k', CLAUDE_OAUTH_CREDS: creds(3000) }, stored)).toEqual({ kind: 'api_key' });
  });
  it('else the newest OAuth pair, from storage or the secret', () => {
    expect(startCredential({ CLAUDE_OAUTH_CREDS: creds(1000, 'old') }, stored)).toEqual({ kind: 'oauth', json: stored.json });
    expect(startCredential({ CLAUDE_OAUTH_CREDS: creds(3000, 'new') }, stored)).toEqual({ kind: 'oauth', json: creds(3000, 'new') });
    expect(startCredential({}, stored)).toEqual({ kind: 'oauth', json: stored.json });
    expect(startCredential({ CLAUDE_OAUTH_CREDS: 'garbage' }, stored)).toEqual({ kind: 'oauth', json: stored.json });
  });
  it('none when nothing is set, stored or usable, saying why without quoting the secret', () => {
    expect(startCredential({}, undefined)).toEqual({
      kind: 'none',
      reason: 'neither ANTHROPIC_API_KEY nor CLAUDE_OAUTH_CREDS is set and no OAuth pair is stored',
    });
    expect(startCredential({ ANTHROPIC_API_KEY: '', CLAUDE_OAUTH_CREDS: '' }, undefined).kind).toBe('none');
    const bad = startCredential({ CLAUDE_OAUTH_CREDS: '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-SECRET"}}' }, undefined);
    expect(bad).toEqual({
      kind: 'none',
      reason: 'the CLAUDE_OAUTH_CREDS secret is not usable (claudeAiOauth.refreshToken missing) and no OAuth pair is stored',
    });
    expect(JSON.stringify(bad)).not.toContain('SECRET');
  });
  it('the 503 message says how to configure a credential', () => {
    const message = noCredentialMessage('no reason');
    expect(message).toMatch(/^No credential is configured for the proxy: no reason\. /);
    expect(message).toContain('npx wrangler secret put ANTHROPIC_API_KEY');
    expect(message).toContain('npm run deploy');
    expect(message).toContain('npm run creds:push');
  });
});
