// The deploy and creds:push scripts in parts: finding and decoding local credentials,
// handing secrets to wrangler through stdin, and the admin request.
import { describe, expect, it } from 'vitest';
import { claudeCredentialLocations, decodeCredentials, describeExpiry, findCredentials } from '../scripts/lib/credentials.mjs';
import { describeAnswer, pushRequest } from '../scripts/lib/push.mjs';
import { USAGE, parseDeployArgs, planSecrets } from '../scripts/lib/plan.mjs';
import { CONFIG, deleteSecret, listSecrets, loggedIn, parseSecretList, putSecret } from '../scripts/lib/wrangler.mjs';
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

  it('CLAUDE_CONFIG_DIR: the hashed keychain service and that folder\'s file, as Claude Code uses them', async () => {
    const seen: string[] = [];
    const dir = '/Users/ada/.claude-work';
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(dir)));
    const hash = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    const found = findCredentials({
      env: { USER: 'ada', CLAUDE_CONFIG_DIR: dir },
      platform: 'darwin',
      keychain: (_account: string, service?: string) => {
        seen.push(service ?? '');
        throw new Error('not found');
      },
      readFile: (path: string) => (seen.push(path), creds(T)),
    });
    expect(seen).toEqual([`Claude Code-credentials-${hash}`, '/Users/ada/.claude-work/.credentials.json']);
    expect(found.source).toBe('/Users/ada/.claude-work/.credentials.json');
    // Without it: the plain service name and ~/.claude.
    expect(claudeCredentialLocations({}, '/home/ada')).toEqual({
      service: 'Claude Code-credentials',
      file: '/home/ada/.claude/.credentials.json',
    });
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
function fakeSpawn(result: { code: number; stdout?: string; stderr?: string }) {
  const calls: { command: string; args: string[]; options: any; stdin?: string }[] = [];
  const spawnFn = (command: string, args: string[], options: any) => {
    const call: (typeof calls)[number] = { command, args, options };
    calls.push(call);
    const listeners: Record<string, (value: unknown) => void> = {};
    const child = {
      on: (event: string, fn: (value: unknown) => void) => void (listeners[event] = fn),
      stdout: { on: (_event: string, fn: (value: unknown) => void) => void (listeners.stdout = fn) },
      stderr: { on: (_event: string, fn: (value: unknown) => void) => void (listeners.stderr = fn) },
      stdin: { end: (data: string) => void (call.stdin = data) },
    };
    setTimeout(() => {
      if (result.stdout) listeners.stdout?.(result.stdout);
      if (result.stderr) listeners.stderr?.(result.stderr);
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

describe('secret list and delete', () => {
  it('listSecrets asks `wrangler secret list --format json` and returns the names', async () => {
    const out = fakeSpawn({ code: 0, stdout: JSON.stringify([{ name: 'CLAUDE_OAUTH_CREDS', type: 'secret_text' }, { name: 'PROXY_API_KEY', type: 'secret_text' }], null, 2) });
    expect(await listSecrets({ spawnFn: out.spawnFn })).toEqual(new Set(['CLAUDE_OAUTH_CREDS', 'PROXY_API_KEY']));
    expect(out.calls[0]!.args).toEqual(['secret', 'list', '--format', 'json', '--config', CONFIG]);
    expect(out.calls[0]!.options.stdio).toEqual(['inherit', 'pipe', 'pipe']);
  });

  it('parseSecretList: a Worker not deployed yet has no secrets; other failures stop the deploy', () => {
    expect(parseSecretList(0, '[]')).toEqual(new Set());
    expect(parseSecretList(0, '▲ [WARNING] something\n[\n  {"name": "A", "type": "secret_text"}\n]\n')).toEqual(new Set(['A']));
    const notFound = 'X [ERROR] Worker "opencode-claude-proxy" not found.\n\nIf this is a new Worker, run `wrangler deploy` first to create it.';
    expect(parseSecretList(1, '', notFound)).toEqual(new Set());
    expect(parseSecretList(1, '', 'This Worker does not exist on your account. [code: 10007]')).toEqual(new Set());
    expect(() => parseSecretList(1, '', 'X [ERROR] Authentication error [code: 10000]')).toThrow(
      /^wrangler secret list failed \(exit 1\); cannot tell which secrets exist\.\n {2}X \[ERROR\] Authentication error/,
    );
    expect(() => parseSecretList(0, 'not json')).toThrow('wrangler secret list printed something other than a JSON list of secrets');
    expect(() => parseSecretList(0, '{"name":"A"}')).toThrow(/JSON list/);
  });

  it('deleteSecret runs `wrangler secret delete NAME` and fails loudly', async () => {
    const ok = fakeSpawn({ code: 0 });
    await deleteSecret('ANTHROPIC_API_KEY', { spawnFn: ok.spawnFn });
    expect(ok.calls[0]!.args).toEqual(['secret', 'delete', 'ANTHROPIC_API_KEY', '--config', CONFIG]);
    await expect(deleteSecret('ANTHROPIC_API_KEY', { spawnFn: fakeSpawn({ code: 1 }).spawnFn })).rejects.toThrow(
      'wrangler secret delete ANTHROPIC_API_KEY failed (exit 1)',
    );
  });
});

describe('deploy flags', () => {
  it('knows --credentials and --delete-api-key, and nothing else', () => {
    expect(parseDeployArgs([])).toEqual({ credentials: false, deleteApiKey: false });
    expect(parseDeployArgs(['--credentials', '--delete-api-key'])).toEqual({ credentials: true, deleteApiKey: true });
    expect(() => parseDeployArgs(['--force'])).toThrow(`unknown argument: --force\n${USAGE}`);
  });
});

describe('planSecrets (what npm run deploy uploads)', () => {
  const oauth = { kind: 'oauth', json: creds(T, 'local'), expiresAt: T, source: 'file' } as const;
  const apiKey = { kind: 'api_key', value: 'sk-ant-api03-k', source: 'ANTHROPIC_API_KEY' } as const;
  const names = (...n: string[]) => new Set(n);
  type Input = Parameters<typeof planSecrets>[0];
  /** A plan that must go ahead. */
  const plan = (input: Input) => {
    const p = planSecrets(input);
    if (!p.ok) throw new Error(`expected a plan, got: ${p.error}`);
    return p;
  };
  /** A plan that must stop: its error. */
  const refusal = (input: Input) => {
    const p = planSecrets(input);
    if (p.ok) throw new Error('expected the deploy to stop');
    return p.error;
  };
  const uploaded = (p: { uploads: [string, string][] }) => p.uploads.map(([name]) => name);

  it('first OAuth deploy: uploads the local pair', () => {
    const p = plan({ credential: oauth, existing: names(), env: { PROXY_API_KEY: 'pk' } });
    expect(p.deletes).toEqual([]);
    expect(p.uploads).toEqual([
      ['CLAUDE_OAUTH_CREDS', creds(T, 'local')],
      ['PROXY_API_KEY', 'pk'],
    ]);
    expect(p.notes).toContain('Uploading the local OAuth pair: the Worker has no CLAUDE_OAUTH_CREDS secret yet.');
  });

  it('later OAuth deploys keep the existing secret, and say so', () => {
    const p = plan({ credential: oauth, existing: names('CLAUDE_OAUTH_CREDS', 'PROXY_API_KEY'), env: {} });
    expect(uploaded(p)).toEqual([]);
    expect(p.notes.join('\n')).toMatch(/^Not uploading the local OAuth pair: the Worker already has a CLAUDE_OAUTH_CREDS secret/m);
    expect(p.notes.join('\n')).toContain('npm run deploy -- --credentials');
    expect(p.notes).toContain('PROXY_API_KEY is not set here: the secret stored by an earlier deploy stays.');
  });

  it('--credentials uploads the local pair over the existing secret', () => {
    const p = plan({ credential: oauth, existing: names('CLAUDE_OAUTH_CREDS'), flags: { credentials: true }, env: {} });
    expect(p.uploads).toEqual([['CLAUDE_OAUTH_CREDS', creds(T, 'local')]]);
    expect(p.notes).toContain('Uploading the local OAuth pair (--credentials): it replaces the CLAUDE_OAUTH_CREDS secret.');
  });

  it('OAuth while the Worker has an ANTHROPIC_API_KEY secret: stops and explains, uploading nothing', () => {
    const error = refusal({ credential: oauth, existing: names('ANTHROPIC_API_KEY'), flags: { credentials: true }, env: { PROXY_API_KEY: 'pk' } });
    expect(error).toContain('an API key always wins over OAuth credentials');
    expect(error).toContain('npx wrangler secret delete ANTHROPIC_API_KEY --config ../wrangler.toml');
    expect(error).toContain('npm run deploy -- --delete-api-key');
    expect(planSecrets({ credential: oauth, existing: names('ANTHROPIC_API_KEY'), env: {} })).not.toHaveProperty('uploads');
  });

  it('--delete-api-key: deletes the key, then uploads the local pair (replacing an old one)', () => {
    const p = plan({ credential: oauth, existing: names('ANTHROPIC_API_KEY', 'CLAUDE_OAUTH_CREDS'), flags: { deleteApiKey: true }, env: {} });
    expect(p.deletes).toEqual(['ANTHROPIC_API_KEY']);
    expect(uploaded(p)).toEqual(['CLAUDE_OAUTH_CREDS']);
    const none = plan({ credential: oauth, existing: names(), flags: { deleteApiKey: true }, env: {} });
    expect(none.deletes).toEqual([]);
    expect(none.notes).toContain('--delete-api-key: the Worker has no ANTHROPIC_API_KEY secret; nothing to delete.');
  });

  it('API key: always uploaded; --delete-api-key with a key in the environment is refused', () => {
    const p = plan({ credential: apiKey, existing: names('CLAUDE_OAUTH_CREDS', 'ANTHROPIC_API_KEY'), env: { ADMIN_API_KEY: 'adm' } });
    expect(p.uploads).toEqual([
      ['ANTHROPIC_API_KEY', 'sk-ant-api03-k'],
      ['ADMIN_API_KEY', 'adm'],
    ]);
    expect(p.notes).toContain('The Worker also has a CLAUDE_OAUTH_CREDS secret: the API key wins, the OAuth pair is not used.');
    expect(p.notes.join('\n')).toContain('PROXY_API_KEY is not set here and the Worker has none');
    expect(refusal({ credential: apiKey, existing: names(), flags: { deleteApiKey: true }, env: {} })).toContain('unset ANTHROPIC_API_KEY');
  });

  it('never puts a secret value in a note or an error', () => {
    const texts = [
      plan({ credential: oauth, existing: names('CLAUDE_OAUTH_CREDS'), env: { PROXY_API_KEY: 'pk-SECRET' } }).notes.join('\n'),
      plan({ credential: oauth, existing: names(), env: {} }).notes.join('\n'),
      refusal({ credential: oauth, existing: names('ANTHROPIC_API_KEY'), env: {} }),
      plan({ credential: apiKey, existing: names(), env: {} }).notes.join('\n'),
    ];
    for (const text of texts) {
      expect(text).not.toContain('sk-ant-');
      expect(text).not.toContain('SECRET');
    }
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
