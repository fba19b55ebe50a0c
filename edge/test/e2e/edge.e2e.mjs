// The edge end to end, in workerd: the Worker and the ProxyContainer Durable Object from
// edge/src, loaded from the repository's wrangler.toml by wrangler's dev server, start the real
// claude-proxy in a fake Docker "container" (fake-docker/engine.mjs). The proxy reaches
// upstream-sim as its Anthropic API over the container's internet access, and its credential
// sync (http://credentials.internal/sync) reaches the Durable Object through workerd's own
// outbound interception. Run by edge/test.sh (vitest.e2e.config.mjs).
//
// Each describe block is one deployment (its own upstream-sim, fake engine and workerd); the
// tests inside run in order and build on each other.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  dockerApi,
  httpRequestBody,
  jsonHeaders,
  messageBody,
  readEvents,
  removeScratch,
  scratchDir,
  startEdge,
  startFakeDocker,
  startSim,
  waitFor,
} from './harness.mjs';

const UPSTREAM_KEY_1 = 'sk-ant-api03-e2e-upstream-one';
const UPSTREAM_KEY_2 = 'sk-ant-api03-e2e-upstream-two';
const CLIENT_KEY_1 = 'client-key-one';
const CLIENT_KEY_2 = 'client-key-two';
const ADMIN_KEY = 'admin-key-e2e';

const SSE_NAMES = /^(message_start|content_block_start|content_block_delta|content_block_stop|message_delta|message_stop|ping)$/;

/** A deployment: its simulator, fake engine and Worker, torn down after the block. */
function deployment(options) {
  const d = {};
  beforeAll(async () => {
    d.scratch = scratchDir();
    d.sim = await startSim({ scratch: d.scratch, ...options.sim });
    d.engine = await startFakeDocker({ scratch: d.scratch, sim: d.sim });
    d.values = options.values(d);
    d.edge = await startEdge({ scratch: d.scratch, values: d.values });
  });
  // Any Docker or sidecar call the fake does not know, and any container that crashed, fails
  // the test during which it happened.
  afterEach(() => {
    const problems = d.engine?.problems.splice(0) ?? [];
    expect(problems, `fake docker engine problems (log: ${d.engine?.logPath})`).toEqual([]);
  });
  afterAll(async () => {
    await d.edge?.stop().catch((err) => console.error(err));
    await d.engine?.close();
    await d.sim?.stop().catch(() => {});
    if (process.env.E2E_KEEP_SCRATCH) console.error(`e2e scratch kept: ${d.scratch}`);
    else if (d.scratch) removeScratch(d.scratch);
    // Problems during teardown (miniflare's cleanup calls, containers that would not die).
    expect(d.engine?.problems ?? [], 'fake docker engine problems at teardown').toEqual([]);
  });
  return d;
}

const creates = (engine) => engine.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/containers/create'));
const appCreates = (engine) => creates(engine).filter((c) => !c.path.endsWith('-proxy'));

async function post(edge, key, { stream = false, headers = {}, text } = {}) {
  return edge.request('/v1/messages', { method: 'POST', headers: jsonHeaders(key, headers), body: messageBody({ stream, text }) });
}

/** The same request straight to upstream-sim. */
function direct(sim, key, { stream = false, headers = {}, text } = {}) {
  return fetch(`${sim.url}/v1/messages`, {
    method: 'POST',
    headers: jsonHeaders(key, headers),
    body: messageBody({ stream, text }),
    signal: AbortSignal.timeout(10000),
  });
}

const withoutId = (message) => ({ ...message, id: '<id>' });
const eventData = (events) =>
  events.map((e) => (e.name === 'message_start' ? { ...e.data, message: withoutId(e.data.message) } : e.data));

describe('API key mode', () => {
  const d = deployment({
    sim: { apiKey: UPSTREAM_KEY_1 },
    values: () => ({
      ANTHROPIC_API_KEY: UPSTREAM_KEY_1,
      CLAUDE_OAUTH_CREDS: undefined,
      PROXY_API_KEY: CLIENT_KEY_1,
      ADMIN_API_KEY: ADMIN_KEY,
      SLEEP_AFTER: '10m',
      // One pool instance, so "the container" is one container.
      API_KEY_INSTANCES: '1',
    }),
  });

  it('a wrong or missing client key gets a 401 at the edge and starts no container', async () => {
    for (const headers of [{}, { 'x-api-key': 'wrong' }, { authorization: 'Bearer wrong' }, { 'x-api-key': UPSTREAM_KEY_1 }]) {
      const res = await d.edge.request('/v1/messages', {
        method: 'POST',
        headers: jsonHeaders(undefined, headers),
        body: messageBody(),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    }
    expect(creates(d.engine)).toEqual([]);
    expect(d.engine.appContainers()).toEqual([]);
  });

  it('a container that cannot start gets an Anthropic-shaped error, not a bare 500', async () => {
    // Docker refuses the start (as it does for a broken image or a full host). Note that the
    // Containers library does not throw then: containerFetch() answers with its own text/plain
    // 500 ("Failed to start container: ..."), so the Worker's catch around the Durable Object
    // call never sees an exception; shaping this answer is up to the Durable Object.
    d.engine.refuseNextStart = 'fake docker engine: refusing to start this container (e2e test)';
    const res = await post(d.edge, CLIENT_KEY_1);
    const text = await res.text();
    expect(d.engine.calls.some((c) => c.path.endsWith('/start') && c.status === 500), 'the start was refused').toBe(true);
    const answer = `${res.status} ${res.headers.get('content-type')} ${text}`;
    expect(res.status, answer).toBe(503);
    expect(res.headers.get('content-type'), answer).toMatch(/^application\/json/);
    expect(JSON.parse(text)).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.any(String) } });
  });

  it("a non-stream answer is the upstream's answer, from a container started as the Durable Object asked", async () => {
    const viaEdge = await post(d.edge, CLIENT_KEY_1, { text: 'Compare me' });
    const straight = await direct(d.sim, UPSTREAM_KEY_1, { text: 'Compare me' });
    expect(viaEdge.status).toBe(200);
    expect(straight.status).toBe(200);
    expect(viaEdge.headers.get('content-type')).toBe(straight.headers.get('content-type'));
    const [a, b] = [await viaEdge.json(), await straight.json()];
    expect(a.id).toMatch(/^msg_sim_\d+$/);
    expect(withoutId(a)).toEqual(withoutId(b));

    const [container] = d.engine.runningApps();
    expect(d.engine.runningApps()).toHaveLength(1);
    const env = container.env;
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      PORT: '8080',
      ANTHROPIC_API_KEY: UPSTREAM_KEY_1,
      REQUIRE_CREDENTIALS: '1',
      CREDENTIALS_SYNC_URL: 'http://credentials.internal/sync',
      // From the image (the Dockerfile's ENV), under the create call's Env.
      DRAIN_TIMEOUT_SECONDS: '840',
    });
    // The container's key is its own, never the client's; no OAuth pair in API key mode.
    expect(env.PROXY_API_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(env.PROXY_ADMIN_KEY).toBe(env.PROXY_API_KEY);
    expect(env.CLAUDE_OAUTH_CREDS).toBeUndefined();
    // The container reached the upstream over its (fake) internet access.
    expect(d.engine.egress.filter((e) => e.dst === `127.0.0.1:${d.sim.port}`).map((e) => e.status)).toContain('direct');
  });

  it('a stream arrives event by event, in order, as the upstream sent it', async () => {
    const delay = 120;
    const t0 = Date.now();
    const res = await post(d.edge, CLIENT_KEY_1, { stream: true, headers: { 'x-sim-event-delay-ms': String(delay) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readEvents(res, { t0 });
    const straight = await readEvents(await direct(d.sim, UPSTREAM_KEY_1, { stream: true }));

    expect(events.map((e) => e.name)).toEqual(straight.map((e) => e.name));
    expect(events[0].name).toBe('message_start');
    expect(events.at(-1).name).toBe('message_stop');
    expect(events.every((e) => SSE_NAMES.test(e.name))).toBe(true);
    expect(eventData(events)).toEqual(eventData(straight));
    // Relayed as they come, not buffered: the upstream spaces them `delay` ms apart, and so does
    // their arrival here. (The proxy holds the events before the first content event back on
    // purpose, so it can still retry an upstream that fails before any content: io/relay.hpp.)
    const first = events.findIndex((e) => e.name === 'content_block_start');
    expect(first).toBeGreaterThan(0);
    const content = events.slice(first);
    const gaps = content.slice(1).map((e, i) => e.at - content[i].at);
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    // Buffering would bring them all at once. (Most, not every, gap: on a busy machine two
    // events may still land together now and then.)
    const spaced = gaps.filter((g) => g >= delay / 2).length;
    expect(spaced, `arrival gaps after the first content event: ${gaps} ms`).toBeGreaterThanOrEqual(Math.ceil(gaps.length * 0.75));
    expect(content.at(-1).at - content[0].at).toBeGreaterThanOrEqual(gaps.length * delay * 0.75);
  });

  it('rotated PROXY_API_KEY and ANTHROPIC_API_KEY take effect in the running container, without a restart', async () => {
    const [container] = d.engine.runningApps();
    const createsBefore = creates(d.engine).length;
    // The upstream now knows only the new key (the old one was revoked).
    await d.sim.stop();
    d.sim = await startSim({ scratch: d.scratch, port: d.sim.port, apiKey: UPSTREAM_KEY_2 });
    const revoked = await post(d.edge, CLIENT_KEY_1);
    expect(revoked.status, 'the running container still has the revoked key').toBe(401);
    expect(await revoked.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });

    // A secrets-only deploy.
    d.values = { ...d.values, ANTHROPIC_API_KEY: UPSTREAM_KEY_2, PROXY_API_KEY: CLIENT_KEY_2 };
    await d.edge.deploySecrets(d.values);

    const oldClient = await post(d.edge, CLIENT_KEY_1);
    expect(oldClient.status).toBe(401);
    expect(await oldClient.json()).toMatchObject({ error: { type: 'authentication_error' } });
    const res = await post(d.edge, CLIENT_KEY_2);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json()).type).toBe('message');

    // Same container, same process, never stopped: the key went in through its admin route.
    expect(d.engine.runningApps().map((c) => [c.id, c.pid])).toEqual([[container.id, container.pid]]);
    expect(container.state).toBe('running');
    expect(creates(d.engine)).toHaveLength(createsBefore);
    expect(d.engine.calls.filter((c) => /\/(kill|stop)(\?|$)/.test(c.path))).toEqual([]);
    // It still started with the old key: the new one came through its admin route (checked in
    // its log once it has exited, below: the proxy's output to a pipe is block-buffered).
    expect(container.env.ANTHROPIC_API_KEY).toBe(UPSTREAM_KEY_1);
  });

  it('SIGTERM during a stream lets the stream finish, then the proxy exits and the next request starts a new container', async () => {
    const [container] = d.engine.runningApps();
    const t0 = Date.now();
    let kill;
    const res = await post(d.edge, CLIENT_KEY_2, { stream: true, headers: { 'x-sim-event-delay-ms': '150' } });
    expect(res.status).toBe(200);
    const events = await readEvents(res, {
      t0,
      onEvent: async (e) => {
        // What a rollout or `docker kill -s TERM` does, through the same Docker call workerd's
        // Container.signal() makes.
        if (!kill && e.name === 'content_block_delta')
          kill = await dockerApi(d.engine, 'POST', `/containers/${encodeURIComponent(container.name)}/kill?signal=SIGTERM`);
      },
    });
    expect(kill?.status).toBe(204);
    const straight = await readEvents(await direct(d.sim, UPSTREAM_KEY_2, { stream: true }));
    expect(events.map((e) => e.name)).toEqual(straight.map((e) => e.name));
    expect(eventData(events)).toEqual(eventData(straight));

    // The proxy drained (with the image's DRAIN_TIMEOUT_SECONDS) and exited by itself, cleanly,
    // cutting nothing off.
    await waitFor(() => container.state === 'exited', { timeout: 10000, what: 'the proxy to exit after draining' });
    expect(container.exitCode).toBe(0);
    const log = d.engine.output(container).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(log.find((l) => l.event === 'drain')).toMatchObject({ requests_in_flight: 1, drain_timeout_s: 840 });
    expect(log.find((l) => l.event === 'stop')).toMatchObject({ requests_cut_off: 0 });
    // The same container served the key rotation above: the Durable Object pushed the new key to
    // its admin route once, and it took it.
    const admin = log.filter((l) => l.event === 'request' && l.path === '/admin/credentials');
    expect(admin.map((l) => [l.method, l.status])).toEqual([['POST', 200]]);

    const again = await post(d.edge, CLIENT_KEY_2);
    expect(again.status).toBe(200);
    expect(d.engine.runningApps()).toHaveLength(1);
    expect(d.engine.runningApps()[0].id).not.toBe(container.id);
  });
});

describe('OAuth mode', () => {
  const d = deployment({
    // Access tokens live 60 s, inside the proxy's 300 s refresh margin: it refreshes (and syncs)
    // before it uses one.
    sim: { accessTokenLifetime: 60, issueTokens: true },
    values: (d) => ({
      ANTHROPIC_API_KEY: undefined,
      CLAUDE_OAUTH_CREDS: d.sim.credentials,
      PROXY_API_KEY: CLIENT_KEY_1,
      ADMIN_API_KEY: ADMIN_KEY,
      // Short, so the container goes to sleep during the test.
      SLEEP_AFTER: '2s',
      API_KEY_INSTANCES: '2',
    }),
  });
  const secretPair = () => JSON.parse(d.values.CLAUDE_OAUTH_CREDS).claudeAiOauth;
  /** The credential syncs the sidecar saw: request bodies (Claude Code JSON) and answers. */
  const syncs = () =>
    d.engine.egress
      .filter((e) => e.hostname === 'credentials.internal' && e.sent)
      .map((e) => ({ ...e, request: httpRequestBody(e.sent), answer: e.received.toString('latin1').split('\r\n')[0] }));
  const lastSyncedPair = () => JSON.parse(syncs().at(-1).request.body).claudeAiOauth;

  /** A refresh at the simulator's token endpoint, as Claude Code on the user's machine does. */
  async function refreshAtSim(refreshToken) {
    const res = await fetch(`${d.sim.url}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'e2e-test-client' }),
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.json() };
  }

  it('concurrent requests to a cold deployment start exactly one container', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => post(d.edge, CLIENT_KEY_1, { text: `cold ${i}` })));
    const statuses = await Promise.all(results.map(async (r) => [r.status, (await r.json()).type]));
    expect(statuses).toEqual(Array.from({ length: 6 }, () => [200, 'message']));
    expect(appCreates(d.engine)).toHaveLength(1);
    expect(creates(d.engine)).toHaveLength(2); // the container and its networking sidecar
    expect(d.engine.runningApps()).toHaveLength(1);
  });

  it("the container's refreshed pair reaches its Durable Object through workerd's egress interception and is stored", async () => {
    const seen = syncs();
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      // workerd took the CONNECT for credentials.internal itself (200, not 202 pass-through)...
      expect(s.status).toBe(200);
      expect(s.request.head).toMatch(/^POST \/sync HTTP\/1\.1\r\n/);
      expect(s.request.head).toMatch(/^content-type: application\/json/im);
      // ...and the sync handler answered 204 once the pair was stored.
      expect(s.answer).toMatch(/^HTTP\/1\.1 204 /);
    }
    const synced = lastSyncedPair();
    expect(synced.refreshToken).not.toBe(secretPair().refreshToken);
    expect(synced.expiresAt).toBeGreaterThan(secretPair().expiresAt);

    const health = await d.edge.request('/health', { headers: { 'x-api-key': CLIENT_KEY_1 } });
    const body = await health.json();
    expect(health.status, JSON.stringify(body)).toBe(200);
    expect(body.containers[0].stored_credentials).toMatchObject({
      source: 'sync',
      expires_at: new Date(synced.expiresAt).toISOString(),
    });
    // The deployed secret's refresh token was spent by the container's refresh.
    const old = await refreshAtSim(secretPair().refreshToken);
    expect(old).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('after sleeping, the container restarts with the stored pair, not the deployed secret', async () => {
    const [sleeper] = d.engine.runningApps();
    const lastBeforeSleep = lastSyncedPair();
    // SLEEP_AFTER=2s: the Durable Object stops the idle container (Container.stop() -> workerd
    // signal -> Docker kill SIGTERM), and the proxy exits cleanly.
    await waitFor(() => sleeper.state === 'exited', { timeout: 15000, what: 'the idle container to be stopped' });
    expect(d.engine.calls.map((c) => `${c.method} ${c.path}`)).toContain(
      `POST /containers/${encodeURIComponent(sleeper.name)}/kill?signal=SIGTERM`,
    );
    expect(sleeper.exitCode).toBe(0);

    const res = await post(d.edge, CLIENT_KEY_1);
    expect(res.status, await res.clone().text()).toBe(200);
    const [woken] = d.engine.runningApps();
    expect(woken.id).not.toBe(sleeper.id);
    const started = JSON.parse(woken.env.CLAUDE_OAUTH_CREDS).claudeAiOauth;
    expect(started.refreshToken).toBe(lastBeforeSleep.refreshToken);
    expect(started.refreshToken).not.toBe(secretPair().refreshToken);
  });

  it('a pair pushed to /admin/credentials is delivered to the running container', async () => {
    const [container] = d.engine.runningApps();
    // The user's own Claude Code refreshes the chain the container holds: the container's
    // copy is dead from now on, unless the pushed pair reaches it.
    const live = lastSyncedPair();
    const refreshed = await refreshAtSim(live.refreshToken);
    expect(refreshed.status).toBe(200);
    const pushed = JSON.stringify({
      claudeAiOauth: {
        accessToken: refreshed.body.access_token,
        refreshToken: refreshed.body.refresh_token,
        expiresAt: Date.now() + refreshed.body.expires_in * 1000,
        scopes: ['user:inference'],
        subscriptionType: 'max',
      },
    });
    const wrongKey = await d.edge.request('/admin/credentials', { method: 'POST', headers: { 'x-admin-key': 'nope' }, body: pushed });
    expect(wrongKey.status).toBe(401);

    const res = await d.edge.request('/admin/credentials', {
      method: 'POST',
      headers: { 'x-admin-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: pushed,
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'ok', stored: true, container: 'delivered' });

    const after = await post(d.edge, CLIENT_KEY_1);
    expect(after.status, await after.clone().text()).toBe(200);
    // It refreshed from the pushed pair (and synced the result); no restart.
    const synced = lastSyncedPair();
    expect(synced.refreshToken).not.toBe(live.refreshToken);
    expect(synced.refreshToken).not.toBe(refreshed.body.refresh_token);
    expect(d.engine.runningApps().map((c) => c.id)).toEqual([container.id]);
  });
});

describe('configuration errors', () => {
  const d = deployment({
    sim: { apiKey: UPSTREAM_KEY_1 },
    values: () => ({
      ANTHROPIC_API_KEY: UPSTREAM_KEY_1,
      CLAUDE_OAUTH_CREDS: undefined,
      PROXY_API_KEY: CLIENT_KEY_1,
      ADMIN_API_KEY: undefined,
      SLEEP_AFTER: 'ten minutes',
      API_KEY_INSTANCES: '1',
    }),
  });

  it('a bad SLEEP_AFTER is reported by /health as a configuration error, and requests still work', async () => {
    const res = await d.edge.request('/health', { headers: { 'x-api-key': CLIENT_KEY_1 } });
    const body = await res.json();
    expect(res.status).toBe(503);
    expect(body).toMatchObject({
      status: 'degraded',
      worker: {
        sleep_after: '10m',
        config_errors: [expect.stringMatching(/^SLEEP_AFTER "ten minutes" is not a duration like 30s, 10m or 1h: using 10m$/)],
      },
    });
    const summary = await d.edge.request('/health');
    expect(summary.status).toBe(503);
    expect((await summary.json()).status).toBe('degraded');

    // The Containers library would throw on the raw value for every request; the fallback serves.
    const ok = await post(d.edge, CLIENT_KEY_1);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(appCreates(d.engine)).toHaveLength(1);
  });
});
