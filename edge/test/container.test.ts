// The Container class and the credential persistence contract with the proxy, with fakes for
// the runtime (what needs the real runtime, workerd, is in test/e2e):
// start environment, the sync handler, the admin push, and storage vs secret.
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@cloudflare/containers', () => import('./support/fake-containers'));

import { ProxyContainer } from '../src/container';
import { CREDENTIALS_KEY } from '../src/credentials';
import { CREDENTIALS_SYNC_URL } from '../src/routing';
import { handleSync } from '../src/sync';
import { handleRequest } from '../src/worker';
import { creds, makeEnv } from './support/fake-runtime';
import { proxyApp } from './support/proxy-app';

afterEach(() => vi.restoreAllMocks());

const BASE = 'https://proxy.test';
const ADMIN = 'admin-key-456';
const T1 = Date.UTC(2026, 11, 1); // the deployed secret
const T2 = T1 + 8 * 3600_000; // after the container's first refresh
const T3 = T2 + 8 * 3600_000; // later still

type TestEnv = ReturnType<typeof makeEnv>;
const owner = (env: TestEnv) => env.PROXY_CONTAINER.instance('oauth-owner');
const request = (env: TestEnv, path = '/v1/models', headers: HeadersInit = {}) =>
  handleRequest(new Request(BASE + path, { headers }), env);
const stored = (env: TestEnv) => owner(env).storage.data.get(CREDENTIALS_KEY) as { json: string; source: string } | undefined;

/** The proxy in the container posting a rotated pair to CREDENTIALS_SYNC_URL. */
function containerSync(env: TestEnv, body: string, init: RequestInit = {}, url = CREDENTIALS_SYNC_URL) {
  const handler = ProxyContainer.outboundByHost![new URL(url).hostname]!;
  const req = new Request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ...init });
  return handler(req, env as any, { containerId: env.PROXY_CONTAINER.idFromName('oauth-owner').toString(), className: 'ProxyContainer' });
}

function push(env: TestEnv, body: string, query = '') {
  return handleRequest(
    new Request(BASE + '/admin/credentials' + query, { method: 'POST', headers: { 'x-admin-key': ADMIN }, body }),
    env,
  );
}

describe('ProxyContainer settings', () => {
  it('listens on 8080, sleeps after SLEEP_AFTER (10m by default)', () => {
    expect(owner(makeEnv({ SLEEP_AFTER: '45m' })).object.sleepAfter).toBe('45m');
    expect(owner(makeEnv({ SLEEP_AFTER: undefined })).object.sleepAfter).toBe('10m');
    expect(owner(makeEnv()).object.defaultPort).toBe(8080);
  });

  it('intercepts the sync host with the sync handler', () => {
    expect(ProxyContainer.outboundByHost).toEqual({ 'credentials.internal': handleSync });
  });

  it('starts the container with the secret pair, the keys and the sync URL', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), PROXY_API_KEY: 'pk' }, proxyApp());
    await request(env, '/v1/models', { 'x-api-key': 'pk' });
    await request(env, '/v1/messages', { 'x-api-key': 'pk' }); // already running: no second start
    const { starts } = owner(env).container;
    expect(starts).toHaveLength(1);
    expect(starts[0]).toEqual({
      HOST: '0.0.0.0',
      PORT: '8080',
      CREDENTIALS_SYNC_URL: 'http://credentials.internal/sync',
      PROXY_API_KEY: expect.stringMatching(/^[0-9a-f]{64}$/),
      PROXY_ADMIN_KEY: expect.stringMatching(/^[0-9a-f]{64}$/),
      REQUIRE_CREDENTIALS: '1',
      CLAUDE_OAUTH_CREDS: creds(T1),
    });
    // The container's key is its own, never the client's.
    expect(starts[0]!.PROXY_API_KEY).toBe(starts[0]!.PROXY_ADMIN_KEY);
  });

  it('keeps one container admin key per instance, in its storage, across restarts and evictions', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());
    await request(env);
    owner(env).container.stop();
    await request(env);
    const [a, b] = owner(env).container.starts;
    expect(a!.PROXY_ADMIN_KEY).toBe(b!.PROXY_ADMIN_KEY);
    expect(owner(env).storage.data.get('proxy:container-admin-key')).toBe(a!.PROXY_ADMIN_KEY);

    // The Durable Object evicted from memory: a new object over the same storage.
    const { storage, container } = owner(env);
    const revived = new ProxyContainer({ storage, container, id: env.PROXY_CONTAINER.idFromName('oauth-owner') } as any, env);
    container.stop();
    await revived.fetch(new Request(BASE + '/v1/models'));
    expect(container.currentEnv.PROXY_ADMIN_KEY).toBe(a!.PROXY_ADMIN_KEY);

    // Another instance has a key of its own.
    const other = env.PROXY_CONTAINER.instance('other');
    await other.object.fetch(new Request(BASE + '/v1/models'));
    expect(other.container.currentEnv.PROXY_ADMIN_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(other.container.currentEnv.PROXY_ADMIN_KEY).not.toBe(a!.PROXY_ADMIN_KEY);
  });
});

describe('container refresh → sync → next start', () => {
  it('/health shows where the stored pair came from and when it expires, never the tokens', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());
    await containerSync(env, creds(T2, 'rotated'));
    const text = await (await request(env, '/health')).text();
    const body = JSON.parse(text) as { containers: { stored_credentials: unknown }[] };
    expect(body.containers[0]!.stored_credentials).toEqual({
      source: 'sync',
      expires_at: new Date(T2).toISOString(),
      stored_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(text).not.toContain('sk-ant-');
  });

  it('answers 204 only once the write has completed', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());
    let release!: () => void;
    owner(env).storage.gate = new Promise<void>((r) => (release = r));
    let answered = false;
    const pending = Promise.resolve(containerSync(env, creds(T2))).then((res) => ((answered = true), res));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    expect(stored(env)).toBeUndefined();
    release();
    expect((await pending).status).toBe(204);
    expect(stored(env)?.json).toBe(creds(T2));
  });

  it('answers 503 when storage fails, so the proxy retries before using the pair', async () => {
    const env = makeEnv({}, proxyApp());
    owner(env).storage.failPuts = true;
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await containerSync(env, creds(T2, 'secret-tag'));
    expect(res.status).toBe(503);
    expect(logged).toHaveBeenCalledExactlyOnceWith('credential sync: storage write failed:', 'storage unavailable');
    expect(JSON.stringify(logged.mock.calls)).not.toContain('secret-tag');
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'Credentials could not be stored; retry' },
    });
  });

  it('stores a synced pair even when storage holds one that expires later: the container is using it', async () => {
    // A pair pushed with a later expiry that the running proxy never took (say it refused
    // it): the proxy then refreshes its own pair and syncs it. That pair is the live one.
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), ADMIN_API_KEY: ADMIN }, proxyApp());
    expect((await push(env, creds(T3, 'pushed'))).status).toBe(200);
    let release!: () => void;
    owner(env).storage.gate = new Promise<void>((r) => (release = r));
    let answered = false;
    const pending = Promise.resolve(containerSync(env, creds(T2, 'live'))).then((res) => ((answered = true), res));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    release();
    expect((await pending).status).toBe(204);
    expect(stored(env)).toMatchObject({ json: creds(T2, 'live'), source: 'sync', expiresAt: T2 });

    // And the next start uses it, not the later-expiring pushed pair.
    owner(env).container.stop();
    await request(env);
    expect(owner(env).container.currentEnv.CLAUDE_OAUTH_CREDS).toBe(creds(T2, 'live'));
  });

  it('accepts only a POST of credentials JSON to /sync', async () => {
    const env = makeEnv({}, proxyApp());
    const cases: [Promise<Response> | Response, number][] = [
      [containerSync(env, creds(T2), {}, 'http://credentials.internal/other'), 404],
      [containerSync(env, creds(T2), { method: 'PUT' }), 405],
      [containerSync(env, creds(T2), { headers: { 'content-type': 'text/plain' } }), 415],
      [containerSync(env, 'not json'), 400],
      [containerSync(env, '{"claudeAiOauth":{"accessToken":"a","refreshToken":"r"}}'), 400],
      [containerSync(env, 'x'.repeat(70_000)), 413],
    ];
    for (const [pending, status] of cases) expect((await pending).status).toBe(status);
    expect(owner(env).storage.puts).toEqual([]);
  });
});

describe('storage vs the CLAUDE_OAUTH_CREDS secret at start', () => {
  it('a newer secret (a fresh login deployed) wins over storage', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1, 'deployed') }, proxyApp());
    await request(env);
    await containerSync(env, creds(T2, 'rotated'));
    owner(env).container.stop();
    env.CLAUDE_OAUTH_CREDS = creds(T3, 'relogin'); // `npm run deploy` with a new login
    await request(env);
    expect(owner(env).container.currentEnv.CLAUDE_OAUTH_CREDS).toBe(creds(T3, 'relogin'));
  });

  it('an older secret loses to storage', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1, 'deployed') }, proxyApp());
    await containerSync(env, creds(T2, 'rotated'));
    await request(env);
    expect(owner(env).container.currentEnv.CLAUDE_OAUTH_CREDS).toBe(creds(T2, 'rotated'));
  });

  it('a secret that does not parse, with storage empty: 503 at the edge, no container started', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: 'not-json' }, proxyApp());
    const res = await request(env);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      type: 'error',
      error: {
        type: 'api_error',
        message: expect.stringMatching(
          /^No credential is configured for the proxy: the CLAUDE_OAUTH_CREDS secret is not usable \(credentials are not JSON \(raw or hex-encoded\)\)/,
        ),
      },
    });
    expect(owner(env).container.starts).toHaveLength(0);
  });

  it('with neither: an Anthropic-shaped 503 saying how to set a credential, no container (never demo mode)', async () => {
    const env = makeEnv({}, proxyApp());
    for (const path of ['/v1/models', '/v1/messages']) {
      const res = await handleRequest(new Request(BASE + path, { method: 'POST', body: '{}' }), env);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe('error');
      expect(body.error.type).toBe('api_error');
      expect(body.error.message).toContain('No credential is configured');
      expect(body.error.message).toContain('npx wrangler secret put ANTHROPIC_API_KEY');
    }
    expect(owner(env).container.starts).toHaveLength(0);
    expect(owner(env).container.received).toHaveLength(0);
  });

  it('with neither, /health is 503 no_credential, and a pushed pair makes the next request start the container', async () => {
    const env = makeEnv({ ADMIN_API_KEY: ADMIN }, proxyApp());
    const health = await request(env, '/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      status: 'no_credential',
      message: expect.stringContaining('No credential is configured'),
      containers: [{ name: 'oauth-owner', running: false, credential: 'none' }],
    });
    const woken = await request(env, '/health?wake=1');
    expect(woken.status).toBe(503);
    expect(owner(env).container.starts).toHaveLength(0);

    expect((await push(env, creds(T2, 'pushed'))).status).toBe(200);
    expect((await request(env)).status).toBe(200);
    expect(owner(env).container.currentEnv).toMatchObject({ CLAUDE_OAUTH_CREDS: creds(T2, 'pushed'), REQUIRE_CREDENTIALS: '1' });
    expect((await request(env, '/health')).status).toBe(200);
  });
});

describe('pushed credentials (POST /admin/credentials)', () => {
  it('accepts the hex form the macOS keychain may hold', async () => {
    const app = proxyApp();
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), ADMIN_API_KEY: ADMIN }, app);
    await request(env);
    const res = await push(env, Buffer.from(creds(T2, 'hex')).toString('hex'));
    expect(res.status).toBe(200);
    expect(app.adminBodies).toEqual([creds(T2, 'hex')]);
  });

  it('with no container running, stores it for the next start without starting one', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), ADMIN_API_KEY: ADMIN }, proxyApp());
    const res = await push(env, creds(T2, 'pushed'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', stored: true, container: 'not_running' });
    expect(owner(env).container.starts).toHaveLength(0);
    await request(env);
    expect(owner(env).container.currentEnv.CLAUDE_OAUTH_CREDS).toBe(creds(T2, 'pushed'));
  });

  it('refuses a pair older than the stored one unless forced', async () => {
    const app = proxyApp();
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), ADMIN_API_KEY: ADMIN }, app);
    await request(env);
    await containerSync(env, creds(T3, 'rotated'));
    const refused = await push(env, creds(T2, 'stale'));
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      status: 'not_stored',
      stored: false,
      container: 'skipped',
      stored_expires_at: new Date(T3).toISOString(),
      message: 'Storage holds a pair that expires later; send ?force=1 to replace it anyway',
    });
    expect(stored(env)?.json).toBe(creds(T3, 'rotated'));
    expect(app.adminBodies).toEqual([]);

    const forced = await push(env, creds(T2, 'stale'), '?force=1');
    expect(forced.status).toBe(200);
    expect(stored(env)?.json).toBe(creds(T2, 'stale'));
    expect(app.adminBodies).toEqual([creds(T2, 'stale')]);
  });

  it('reports 502 when the running container refuses it (still stored for the next start)', async () => {
    const app = proxyApp();
    app.adminStatus = 503;
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), ADMIN_API_KEY: ADMIN }, app);
    await request(env);
    const res = await push(env, creds(T2, 'pushed'));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ status: 'not_delivered', stored: true, container: 'rejected', container_status: 503 });
    expect(stored(env)?.json).toBe(creds(T2, 'pushed'));
  });

  it('reports 502 when the running container cannot be reached', async () => {
    const env = makeEnv({ ADMIN_API_KEY: ADMIN }, () => {
      throw new Error('connection refused');
    });
    owner(env).container.running = true; // started, not listening yet
    const res = await push(env, creds(T2, 'pushed'));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ status: 'not_delivered', stored: true, container: 'unreachable' });
  });
});

describe('key rotation without a container restart', () => {
  it('a container that refuses the key keeps its old one, and the next request tries again', async () => {
    const app = proxyApp();
    const env = makeEnv({ ANTHROPIC_API_KEY: 'sk-ant-api03-old', API_KEY_INSTANCES: '1' }, app);
    await request(env);
    env.ANTHROPIC_API_KEY = 'sk-ant-api03-new';
    app.adminStatus = 500;
    await request(env);
    app.adminStatus = 200;
    await request(env);
    expect(app.upstreamKeys).toEqual(['sk-ant-api03-old', 'sk-ant-api03-old', 'sk-ant-api03-new']);
  });

  it('a container started after the rotation gets the new key in its environment, no push', async () => {
    const app = proxyApp();
    const env = makeEnv({ ANTHROPIC_API_KEY: 'sk-ant-api03-old', API_KEY_INSTANCES: '1' }, app);
    await request(env);
    env.PROXY_CONTAINER.instance('pool-0').container.stop();
    env.ANTHROPIC_API_KEY = 'sk-ant-api03-new';
    await request(env);
    expect(app.upstreamKeys).toEqual(['sk-ant-api03-old', 'sk-ant-api03-new']);
    expect(app.adminBodies).toEqual([]);
  });
});
