// The deploy and creds:push scripts in parts: finding and decoding local credentials,
// handing secrets to wrangler through stdin, and the admin request.
import { describe, expect, it } from 'vitest';
import { decodeCredentials, describeExpiry, findCredentials } from '../scripts/lib/credentials.mjs';
import { describeAnswer, pushRequest } from '../scripts/lib/push.mjs';
import { CONFIG, loggedIn, putSecret } from '../scripts/lib/wrangler.mjs';
import { creds } from './support/storage';

const T = Date.UTC(2026, 11, 1);
const hex = (s: string) => Buffer.from(s).toString('hex');
const missing = () => {
  throw new Error('ENOENT');
};

describe('decodeCredentials', () => {
  it('reads raw and hex JSON', () => {
    expect(decodeCredentials(creds(T) + '\n')).toEqual({ json: creds(T), expiresAt: T });
    expect(decodeCredentials(hex(creds(T)) + '\n')).toEqual({ json: creds(T), expiresAt: T });
  });
  it('explains what is wrong without echoing the secret', () => {
    expect(() => decodeCredentials('sk-ant-oat01-SECRET')).toThrow(/^the credentials are not JSON \(raw or hex-encoded\)$/);
    expect(() => decodeCredentials('{"claudeAiOauth":{"accessToken":"sk-ant-oat01-SECRET","expiresAt":1}}')).toThrow(
      /^claudeAiOauth\.refreshToken is missing$/,
    );
  });
});

describe('findCredentials', () => {
  it('prefers ANTHROPIC_API_KEY from the environment', () => {
    const found = findCredentials({ env: { ANTHROPIC_API_KEY: ' sk-ant-api03-k\n' }, platform: 'linux', readFile: missing });
    expect(found).toEqual({ kind: 'api_key', value: 'sk-ant-api03-k', source: 'ANTHROPIC_API_KEY' });
  });

  it('macOS: the keychain item for $USER, hex or raw', () => {
    const accounts: string[] = [];
    const found = findCredentials({
      env: { USER: 'ada' },
      platform: 'darwin',
      keychain: (account: string) => (accounts.push(account), hex(creds(T))),
      readFile: missing,
    });
    expect(accounts).toEqual(['ada']);
    expect(found).toEqual({ kind: 'oauth', json: creds(T), expiresAt: T, source: 'macOS keychain' });
  });

  it('macOS without a keychain item falls back to the file', () => {
    const found = findCredentials({ env: { USER: 'ada' }, platform: 'darwin', home: '/home/ada', keychain: missing, readFile: () => creds(T) });
    expect(found.source).toBe('/home/ada/.claude/.credentials.json');
  });

  it('Linux: ~/.claude/.credentials.json, or CLAUDE_CREDENTIALS_FILE', () => {
    const paths: string[] = [];
    const readFile = (p: string) => (paths.push(p), creds(T));
    expect(findCredentials({ env: {}, platform: 'linux', home: '/home/ada', readFile })).toMatchObject({ kind: 'oauth', json: creds(T) });
    findCredentials({ env: { CLAUDE_CREDENTIALS_FILE: '/tmp/c.json' }, platform: 'linux', readFile });
    expect(paths).toEqual(['/home/ada/.claude/.credentials.json', '/tmp/c.json']);
  });

  it('creds:push ignores an API key and wants the OAuth pair', () => {
    const found = findCredentials({ env: { ANTHROPIC_API_KEY: 'k' }, platform: 'linux', home: '/h', readFile: () => creds(T), oauthOnly: true });
    expect(found.kind).toBe('oauth');
  });

  it('says where it looked when nothing is there', () => {
    expect(() => findCredentials({ env: { USER: 'ada' }, platform: 'darwin', home: '/h', keychain: missing, readFile: missing })).toThrow(
      'No credentials found.\n' +
        '  macOS keychain item "Claude Code-credentials" for account "ada": not found\n' +
        '  /h/.claude/.credentials.json: not readable\n' +
        'Set ANTHROPIC_API_KEY (the supported way), or log in with Claude Code on this machine first.',
    );
  });
});

describe('describeExpiry', () => {
  it('says how long a token lasts, or that it has expired', () => {
    expect(describeExpiry(T + 7 * 3600_000, T)).toBe('valid for about 7 h');
    expect(describeExpiry(T + 30 * 60_000, T)).toBe('valid for about 30 min');
    expect(describeExpiry(T - 1, T)).toMatch(/^expired 2026-11-30T23:59:59.999Z/);
  });
});

/** A child_process.spawn stand-in that records what it was given. */
function fakeSpawn(result: { code: number; stdout?: string }) {
  const calls: { command: string; args: string[]; options: any; stdin?: string }[] = [];
  const spawnFn = (command: string, args: string[], options: any) => {
    const call: (typeof calls)[number] = { command, args, options };
    calls.push(call);
    const listeners: Record<string, (value: unknown) => void> = {};
    const child = {
      on: (event: string, fn: (value: unknown) => void) => void (listeners[event] = fn),
      stdout: { on: (_event: string, fn: (value: unknown) => void) => void (listeners.stdout = fn) },
      stdin: { end: (data: string) => void (call.stdin = data) },
    };
    setTimeout(() => {
      if (result.stdout) listeners.stdout?.(result.stdout);
      listeners.close?.(result.code);
    }, 0);
    return child;
  };
  return { calls, spawnFn };
}

describe('wrangler helpers', () => {
  it('putSecret passes the value on stdin, never as an argument', async () => {
    const { calls, spawnFn } = fakeSpawn({ code: 0 });
    await putSecret('CLAUDE_OAUTH_CREDS', creds(T), { spawnFn });
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.command).toBe('wrangler');
    expect(call!.args).toEqual(['secret', 'put', 'CLAUDE_OAUTH_CREDS', '--config', CONFIG]);
    expect(call!.stdin).toBe(creds(T));
    expect(call!.options.stdio[0]).toBe('pipe');
    expect(call!.options.env.WRANGLER_SEND_METRICS).toBe('false');
  });

  it('putSecret fails loudly when wrangler does', async () => {
    const { spawnFn } = fakeSpawn({ code: 1 });
    await expect(putSecret('PROXY_API_KEY', 'v', { spawnFn })).rejects.toThrow('wrangler secret put PROXY_API_KEY failed (exit 1)');
  });

  it('loggedIn reads `wrangler whoami --json`', async () => {
    const out = fakeSpawn({ code: 1, stdout: '{"loggedIn":false}' });
    expect(await loggedIn({ spawnFn: out.spawnFn })).toBe(false);
    expect(out.calls[0]!.args).toEqual(['whoami', '--json']);
    expect(await loggedIn({ spawnFn: fakeSpawn({ code: 0, stdout: '{"loggedIn":true,"email":"a@b"}' }).spawnFn })).toBe(true);
    expect(await loggedIn({ spawnFn: fakeSpawn({ code: 0, stdout: 'not json' }).spawnFn })).toBe(false);
  });
});

describe('pushRequest', () => {
  it('POSTs the JSON to /admin/credentials with the admin key', async () => {
    const req = pushRequest('https://proxy.test/ignored/path', creds(T), 'adm');
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://proxy.test/admin/credentials');
    expect(req.headers.get('x-admin-key')).toBe('adm');
    expect(req.headers.get('content-type')).toBe('application/json');
    expect(await req.text()).toBe(creds(T));
    expect(pushRequest('https://proxy.test', creds(T), 'adm', { force: true }).url).toBe('https://proxy.test/admin/credentials?force=1');
  });

  it('sends the key only over https (or to this machine)', () => {
    expect(() => pushRequest('http://proxy.test', creds(T), 'adm')).toThrow(/must be https/);
    expect(pushRequest('http://127.0.0.1:8787', creds(T), 'adm').url).toBe('http://127.0.0.1:8787/admin/credentials');
    expect(() => pushRequest('https://proxy.test', creds(T), '')).toThrow(/set ADMIN_API_KEY/);
    expect(() => pushRequest('proxy', creds(T), 'adm')).toThrow('not a URL: proxy');
  });

  it('turns the answer into one line', () => {
    expect(describeAnswer(200, { message: 'Stored' })).toBe('200: Stored');
    expect(describeAnswer(401, { type: 'error', error: { message: 'Invalid or missing x-admin-key' } })).toBe('401: Invalid or missing x-admin-key');
    expect(describeAnswer(500, undefined)).toBe('500: unexpected answer');
  });
});
