// The Worker in front: routing, edge auth, streaming, /health, and the admin route's answers.
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@cloudflare/containers', () => import('./support/fake-containers'));

import { handleRequest } from '../src/worker';
import { creds, makeEnv } from './support/fake-runtime';
import { proxyApp } from './support/proxy-app';

const BASE = 'https://proxy.test';
const T1 = Date.UTC(2026, 11, 1);

afterEach(() => vi.restoreAllMocks());

describe('routing', () => {
  it('OAuth mode: every request goes to the one owner instance', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());
    for (const path of ['/v1/messages', '/v1/models', '/v1/messages/count_tokens']) {
      const res = await handleRequest(new Request(BASE + path, { method: 'POST' }), env);
      expect(await res.json()).toEqual({ relayed: path });
    }
    expect([...env.PROXY_CONTAINER.instances.keys()]).toEqual(['oauth-owner']);
    expect(env.PROXY_CONTAINER.instance('oauth-owner').container.received).toHaveLength(3);
  });

  it('API key mode: requests spread over the pool', async () => {
    const env = makeEnv({ ANTHROPIC_API_KEY: 'sk-ant-api03-k', API_KEY_INSTANCES: '2' }, proxyApp());
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValue(0.2);
    await handleRequest(new Request(BASE + '/v1/models'), env);
    random.mockReturnValue(0.8);
    await handleRequest(new Request(BASE + '/v1/models'), env);
    expect([...env.PROXY_CONTAINER.instances.keys()].sort()).toEqual(['pool-0', 'pool-1']);
    expect(env.PROXY_CONTAINER.instance('pool-0').container.starts).toHaveLength(1);
    expect(env.PROXY_CONTAINER.instance('pool-1').container.starts).toHaveLength(1);
  });

  it('always relays to port 8080, whatever port header a client sends', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());
    const res = await handleRequest(new Request(BASE + '/v1/models', { headers: { 'cf-container-target-port': '9229' } }), env);
    expect(res.status).toBe(200);
    expect(env.PROXY_CONTAINER.instance('oauth-owner').container.ports).toEqual([8080]);
  });

  it("tells the container the client's scheme, which it cannot see, and keeps the client's headers", async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());
    await handleRequest(new Request(BASE + '/v1/messages/batches', { headers: { 'x-forwarded-proto': 'http', 'x-custom': 'v' } }), env);
    await handleRequest(new Request('http://plain.test/v1/messages/batches'), env);
    const received = env.PROXY_CONTAINER.instance('oauth-owner').container.received;
    expect(received.map((r) => r.headers.get('x-forwarded-proto'))).toEqual(['https', 'http']);
    expect(received[0]!.headers.get('x-custom')).toBe('v');
    expect(new URL(received[0]!.url).host).toBe('proxy.test');
  });

  it('answers other paths itself with an Anthropic-shaped 404, waking nothing', async () => {
    const env = makeEnv({}, proxyApp());
    for (const path of ['/', '/v1', '/admin', '/sync', '/favicon.ico']) {
      const res = await handleRequest(new Request(BASE + path), env);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ type: 'error', error: { type: 'not_found_error', message: `Not found: ${path}` } });
    }
    expect(env.PROXY_CONTAINER.instances.size).toBe(0);
  });
});

describe('edge auth', () => {
  const key = 'proxy-key-123';
  const env = () => makeEnv({ PROXY_API_KEY: key, CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());

  it('refuses a missing or wrong key with a 401 before any container is touched', async () => {
    const e = env();
    const attempts: Record<string, string>[] = [
      {},
      { 'x-api-key': 'wrong' },
      { authorization: 'Bearer wrong' },
      { authorization: key }, // not a Bearer token
    ];
    for (const headers of attempts) {
      const res = await handleRequest(new Request(BASE + '/v1/messages', { method: 'POST', headers, body: '{}' }), e);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        type: 'error',
        error: {
          type: 'authentication_error',
          message: 'Invalid or missing proxy API key (send it as x-api-key or Authorization: Bearer)',
        },
      });
    }
    expect(e.PROXY_CONTAINER.instances.size).toBe(0);
  });

  it("lets the right key through as x-api-key or Bearer, swapped for the container's own key", async () => {
    const e = env();
    const good: Record<string, string>[] = [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }];
    for (const headers of good) {
      const res = await handleRequest(new Request(BASE + '/v1/models', { headers }), e);
      expect(res.status).toBe(200);
    }
    const { received, currentEnv } = e.PROXY_CONTAINER.instance('oauth-owner').container;
    expect(received.map((r) => [r.headers.get('x-api-key'), r.headers.get('authorization')])).toEqual([
      [currentEnv.PROXY_API_KEY, null],
      [currentEnv.PROXY_API_KEY, null],
    ]);
  });

  it('lets a request through when either header holds the key, as the proxy does', async () => {
    const e = env();
    const mixed: Record<string, string>[] = [
      { 'x-api-key': 'sk-ant-something-else', authorization: `Bearer ${key}` },
      { 'x-api-key': key, authorization: 'Bearer something-else' },
    ];
    for (const headers of mixed) {
      const res = await handleRequest(new Request(BASE + '/v1/models', { headers }), e);
      expect(res.status).toBe(200);
    }
    const refused = await handleRequest(
      new Request(BASE + '/v1/models', { headers: { 'x-api-key': 'nope', authorization: 'Bearer nope' } }),
      e,
    );
    expect(refused.status).toBe(401);
    expect(e.PROXY_CONTAINER.instance('oauth-owner').container.received).toHaveLength(2);
  });
});

describe('streaming pass-through', () => {
  it('relays request and response bodies chunk by chunk, neither side complete first', async () => {
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    let client!: ReadableStreamDefaultController<Uint8Array>;
    const clientBody = new ReadableStream<Uint8Array>({ start: (c) => void (client = c) });

    let upstream!: ReadableStreamDefaultController<Uint8Array>;
    let containerGotFirst!: (text: string) => void;
    const firstAtContainer = new Promise<string>((r) => (containerGotFirst = r));

    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, async (request) => {
      const reader = request.body!.getReader();
      containerGotFirst(decoder.decode((await reader.read()).value));
      return new Response(
        new ReadableStream<Uint8Array>({ start: (c) => void (upstream = c) }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    });

    const request = new Request(BASE + '/v1/messages', { method: 'POST', body: clientBody, duplex: 'half' } as RequestInit);
    const pending = handleRequest(request, env);
    client.enqueue(encoder.encode('{"model":'));
    // The container reads the first part while the client has not finished sending.
    expect(await firstAtContainer).toBe('{"model":');
    const res = await pending;

    upstream.enqueue(encoder.encode('event: message_start\n\n'));
    const reader = res.body!.getReader();
    const first = await reader.read();
    // The client has the first event while the upstream stream is still open: its next
    // read stays pending until the container sends more.
    expect(decoder.decode(first.value)).toBe('event: message_start\n\n');
    let secondSettled = false;
    const secondRead = reader.read().then((r) => ((secondSettled = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(secondSettled).toBe(false);

    upstream.enqueue(encoder.encode('event: message_stop\n\n'));
    const second = await secondRead;
    expect(decoder.decode(second.value)).toBe('event: message_stop\n\n');
    // Still open until the container closes its stream.
    let doneSettled = false;
    const last = reader.read().then((r) => ((doneSettled = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(doneSettled).toBe(false);
    upstream.close();
    client.close();
    expect((await last).done).toBe(true);
  });
});

describe('errors inside the Durable Object', () => {
  it('reach the client as Anthropic-shaped JSON (503), without the error text', async () => {
    const app = Object.assign(
      async () => {
        throw new TypeError('Network connection lost (sk-ant-api03-secret-in-a-message)');
      },
      { adminBodies: [], healthStatus: 200, adminStatus: 200 },
    );
    const env = makeEnv({ ANTHROPIC_API_KEY: 'sk-ant-api03-k' }, app as any);
    const res = await handleRequest(new Request(BASE + '/v1/messages', { method: 'POST', body: '{}' }), env);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'The proxy container could not be reached (TypeError); retry shortly' },
    });
  });
});

describe('/health', () => {
  it('reports the Worker and a sleeping container without waking it', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), PROXY_API_KEY: 'k' }, proxyApp());
    const res = await handleRequest(new Request(BASE + '/health', { headers: { 'x-api-key': 'k' } }), env);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      status: 'ok',
      worker: { status: 'ok', mode: 'oauth', edge_auth: true, admin_route: false, instances: 1, sleep_after: '10m' },
      containers: [{ name: 'oauth-owner', running: false, state: 'stopped', credential: 'oauth' }],
    });
    expect(env.PROXY_CONTAINER.instance('oauth-owner').container.starts).toHaveLength(0);
  });

  it("includes a running container's own /health JSON, without counting as a request", async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, proxyApp());
    await handleRequest(new Request(BASE + '/v1/models'), env);
    const owner = env.PROXY_CONTAINER.instance('oauth-owner');
    // containerFetch is what starts a container and renews its sleepAfter timer.
    const containerFetch = vi.spyOn(owner.object, 'containerFetch');
    const res = await handleRequest(new Request(BASE + '/health'), env);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { containers: unknown[] };
    expect(body.containers).toEqual([
      {
        name: 'oauth-owner',
        running: true,
        state: 'healthy',
        credential: 'oauth',
        status: 200,
        health: { status: 'ok', mode: 'oauth' },
      },
    ]);
    expect(containerFetch).not.toHaveBeenCalled();
    expect(owner.container.starts).toHaveLength(1);
    expect(owner.container.received.map((r) => new URL(r.url).pathname)).toEqual(['/v1/models', '/health']);
  });

  it('without the proxy key: only a summary, no container details', async () => {
    const app = proxyApp();
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), PROXY_API_KEY: 'k', ADMIN_API_KEY: 'adm' }, app);
    await handleRequest(new Request(BASE + '/v1/models', { headers: { 'x-api-key': 'k' } }), env);
    const owner = env.PROXY_CONTAINER.instance('oauth-owner');
    for (const headers of [{}, { 'x-api-key': 'wrong' }] as Record<string, string>[]) {
      const res = await handleRequest(new Request(BASE + '/health', { headers }), env);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', worker: { status: 'ok', mode: 'oauth', instances: 1 } });
    }
    // The status still reflects the container: it was asked, but only its status is used.
    app.healthStatus = 503;
    const degraded = await handleRequest(new Request(BASE + '/health'), env);
    expect(degraded.status).toBe(503);
    const text = await degraded.text();
    expect(JSON.parse(text)).toEqual({ status: 'degraded', worker: { status: 'ok', mode: 'oauth', instances: 1 } });
    expect(text).not.toContain('needs_login');
    expect(owner.container.starts).toHaveLength(1);
  });

  it('without the proxy key: a stored pair and instance errors are not shown', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), PROXY_API_KEY: 'k' }, proxyApp());
    const owner = env.PROXY_CONTAINER.instance('oauth-owner');
    const health = vi.spyOn(owner.object, 'health');
    await handleRequest(new Request(BASE + '/health'), env);
    expect(health).toHaveBeenCalledExactlyOnceWith({ wake: false, detail: false });
    health.mockRejectedValueOnce(new Error('internal detail'));
    const res = await handleRequest(new Request(BASE + '/health'), env);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'degraded', worker: { status: 'ok', mode: 'oauth', instances: 1 } });
    expect(text).not.toContain('internal detail');
  });

  it('no credential at all: 503 no_credential, summary or details, nothing started', async () => {
    const env = makeEnv({ PROXY_API_KEY: 'k' }, proxyApp());
    const summary = await handleRequest(new Request(BASE + '/health'), env);
    expect(summary.status).toBe(503);
    expect(await summary.json()).toEqual({
      status: 'no_credential',
      message: expect.stringContaining('No credential is configured for the proxy: neither ANTHROPIC_API_KEY nor CLAUDE_OAUTH_CREDS is set'),
      worker: { status: 'ok', mode: 'oauth', instances: 1 },
    });
    const detailed = await handleRequest(new Request(BASE + '/health?wake=1', { headers: { authorization: 'Bearer k' } }), env);
    expect(detailed.status).toBe(503);
    expect(await detailed.json()).toMatchObject({
      status: 'no_credential',
      containers: [{ name: 'oauth-owner', running: false, credential: 'none' }],
    });
    expect(env.PROXY_CONTAINER.instance('oauth-owner').container.starts).toHaveLength(0);
  });

  it('a malformed SLEEP_AFTER: requests still served (default 10m), /health degraded and says why', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), SLEEP_AFTER: '10 minutes' }, proxyApp());
    const res = await handleRequest(new Request(BASE + '/v1/models'), env);
    expect(res.status).toBe(200);
    expect(env.PROXY_CONTAINER.instance('oauth-owner').object.sleepAfter).toBe('10m');
    const health = await handleRequest(new Request(BASE + '/health'), env);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { status: string; worker: { sleep_after: string; config_errors: string[] } };
    expect(body.status).toBe('degraded');
    expect(body.worker.sleep_after).toBe('10m');
    expect(body.worker.config_errors).toEqual([
      'SLEEP_AFTER "10 minutes" is not a duration like 30s, 10m or 1h: using 10m',
    ]);
  });

  it('is 503 degraded when a running container says it cannot serve', async () => {
    const app = proxyApp();
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1) }, app);
    await handleRequest(new Request(BASE + '/v1/models'), env);
    app.healthStatus = 503;
    const res = await handleRequest(new Request(BASE + '/health'), env);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; containers: { status: number; health: unknown }[] };
    expect(body.status).toBe('degraded');
    expect(body.containers[0]!.status).toBe(503);
    expect(body.containers[0]!.health).toEqual({ status: 'needs_login', mode: 'oauth' });
  });

  it('lists every pool instance in API key mode', async () => {
    const env = makeEnv({ ANTHROPIC_API_KEY: 'sk-ant-api03-k', API_KEY_INSTANCES: '3' }, proxyApp());
    const res = await handleRequest(new Request(BASE + '/health'), env);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      worker: { mode: string; instances: number };
      containers: { name: string; credential: string }[];
    };
    expect(body.worker.mode).toBe('api_key');
    expect(body.worker.instances).toBe(3);
    expect(body.containers.map((c) => [c.name, c.credential])).toEqual([
      ['pool-0', 'api_key'],
      ['pool-1', 'api_key'],
      ['pool-2', 'api_key'],
    ]);
  });

  it('wakes the container only for ?wake=1 with the proxy key', async () => {
    const env = makeEnv({ CLAUDE_OAUTH_CREDS: creds(T1), PROXY_API_KEY: 'k' }, proxyApp());
    const owner = () => env.PROXY_CONTAINER.instance('oauth-owner');
    const refused = await handleRequest(new Request(BASE + '/health?wake=1'), env);
    expect(refused.status).toBe(401);
    expect(env.PROXY_CONTAINER.instances.size).toBe(0);

    const res = await handleRequest(new Request(BASE + '/health?wake=1', { headers: { 'x-api-key': 'k' } }), env);
    expect(res.status).toBe(200);
    expect(owner().container.starts).toHaveLength(1);
    const body = (await res.json()) as { containers: { running: boolean; health: unknown }[] };
    expect(body.containers[0]).toMatchObject({ running: true, health: { status: 'ok', mode: 'oauth' } });
  });

  it('refuses methods other than GET and HEAD', async () => {
    const res = await handleRequest(new Request(BASE + '/health', { method: 'POST' }), makeEnv());
    expect(res.status).toBe(405);
  });
});

describe('admin route refusals', () => {
  const admin = 'admin-key-456';
  const post = (headers: Record<string, string>, body: BodyInit = creds(T1), query = '') =>
    new Request(BASE + '/admin/credentials' + query, { method: 'POST', headers, body });

  it('is off (404) without ADMIN_API_KEY', async () => {
    const res = await handleRequest(post({ 'x-admin-key': '' }), makeEnv());
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: 'Not found: the admin route is off (set the ADMIN_API_KEY secret)' },
    });
  });

  it('needs the admin key (the proxy key is not enough), then POST', async () => {
    const env = makeEnv({ ADMIN_API_KEY: admin, PROXY_API_KEY: 'pk' }, proxyApp());
    const wrong: Record<string, string>[] = [{}, { 'x-admin-key': 'nope' }, { 'x-api-key': 'pk' }, { authorization: `Bearer ${admin}` }];
    for (const headers of wrong) {
      const res = await handleRequest(post(headers), env);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: 'Invalid or missing x-admin-key' },
      });
    }
    const get = await handleRequest(new Request(BASE + '/admin/credentials', { headers: { 'x-admin-key': admin } }), env);
    expect(get.status).toBe(405);
    expect(env.PROXY_CONTAINER.instances.size).toBe(0);
  });

  it('refuses bodies that are not credentials, or too large', async () => {
    const env = makeEnv({ ADMIN_API_KEY: admin }, proxyApp());
    const bad = await handleRequest(post({ 'x-admin-key': admin }, '{"claudeAiOauth":{"accessToken":"a"}}'), env);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'claudeAiOauth.refreshToken missing' },
    });
    const big = await handleRequest(post({ 'x-admin-key': admin }, 'x'.repeat(70_000)), env);
    expect(big.status).toBe(413);
    expect(env.PROXY_CONTAINER.instances.size).toBe(0);
  });

  it('refuses OAuth credentials when an API key is in use (409)', async () => {
    const env = makeEnv({ ADMIN_API_KEY: admin, ANTHROPIC_API_KEY: 'sk-ant-api03-k' }, proxyApp());
    const res = await handleRequest(post({ 'x-admin-key': admin }), env);
    expect(res.status).toBe(409);
    expect(env.PROXY_CONTAINER.instances.size).toBe(0);
  });
});

describe("the Containers library's own failures", () => {
  it('become an Anthropic-shaped 503; the proxy\'s and the upstream\'s answers pass untouched', async () => {
    const { anthropicShaped } = await import('../src/http');
    for (const text of ['Failed to start container: boom', 'Container suddenly disconnected, try again',
      'Error proxying request to container: x', 'There is no Container instance available at this time.']) {
      const res = await anthropicShaped(new Response(text, { status: text.startsWith('There') ? 503 : 500 }));
      expect(res.status).toBe(503);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe('error');
      expect(body.error.type).toBe('api_error');
      expect(body.error.message).not.toContain('boom');
    }
    const upstream = new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/plain', 'request-id': 'req_1' } });
    expect(await anthropicShaped(upstream)).toBe(upstream);
    const other = new Response('Failed to start container: looks alike', { status: 502, headers: { 'request-id': 'req_2' } });
    expect(await anthropicShaped(other)).toBe(other);
    const json = Response.json({ type: 'error' }, { status: 500 });
    expect(await anthropicShaped(json)).toBe(json);
    const plain = new Response('some other text', { status: 500 });
    const passed = await anthropicShaped(plain);
    expect(passed.status).toBe(500);
    expect(await passed.text()).toBe('some other text');
  });
});
