// The end-to-end rig: upstream-sim, the fake Docker engine and CLI, and the real Worker loaded
// from the repository's wrangler.toml by wrangler's unstable_DevEnv().startWorker() in workerd.
//
// Why startWorker and not createTestHarness: a deploy that changes only secrets keeps the
// containers running on Cloudflare. createTestHarness's update() builds a new image tag each
// time, which makes miniflare remove the running containers, so a "rotation without restart"
// test would pass for the wrong reason. Here the image tag is fixed (containerBuildId) and new
// secrets go in with patchConfig, which keeps them (the fake engine is asked whether they were
// restarted).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeDockerEngine, LOCKED_VERSIONS, checkHost } from './fake-docker/engine.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const EDGE = path.resolve(here, '../..');
export const ROOT = path.dirname(EDGE);

/** Every secret and var the Worker reads (edge/src/env.ts): each test pins all of them. */
export const SECRETS = ['ANTHROPIC_API_KEY', 'CLAUDE_OAUTH_CREDS', 'PROXY_API_KEY', 'ADMIN_API_KEY'];
export const VARS = ['SLEEP_AFTER', 'API_KEY_INSTANCES'];

export const MODEL = 'claude-sonnet-4-6';
export const CONTAINER_BUILD_ID = 'e2e';

/** The built binaries: CLAUDE_PROXY_BIN / UPSTREAM_SIM_BIN, or the RelWithDebInfo build. */
export function binaries() {
  const dir = path.join(ROOT, 'build', 'RelWithDebInfo');
  const proxy = process.env.CLAUDE_PROXY_BIN ?? path.join(dir, 'claude-proxy');
  const sim = process.env.UPSTREAM_SIM_BIN ?? path.join(dir, 'upstream-sim');
  for (const [name, file] of [
    ['claude-proxy', proxy],
    ['upstream-sim', sim],
  ]) {
    if (!existsSync(file))
      throw new Error(`${name} not found at ${file}: build it first (or set CLAUDE_PROXY_BIN / UPSTREAM_SIM_BIN)`);
  }
  return { proxy, sim };
}

/** Resolves with fn()'s first truthy result, polling; rejects after `timeout` ms. */
export async function waitFor(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A promise that rejects after `ms` (for bounding anything that has no timeout of its own). */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * upstream-sim on loopback. `port` reuses a port (a restarted upstream); `issueTokens` makes it
 * issue an OAuth pair at start and returns it as Claude Code credentials JSON.
 */
export async function startSim({ port = 0, apiKey, accessTokenLifetime, issueTokens = false, scratch }) {
  const args = ['--port', String(port), '--exit-on-stdin-eof'];
  if (apiKey) args.push('--api-key', apiKey);
  if (accessTokenLifetime) args.push('--access-token-lifetime', String(accessTokenLifetime));
  const credsFile = issueTokens ? path.join(scratch, `sim-creds-${Date.now()}.json`) : undefined;
  if (credsFile) args.push('--issue-tokens', credsFile);
  const child = spawn(binaries().sim, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const url = await within(
    new Promise((resolve, reject) => {
      const onData = (chunk) => {
        output += chunk;
        const m = /upstream-sim listening on (http:\/\/\S+)\r?\n/.exec(output);
        if (m) resolve(m[1]);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`upstream-sim exited with ${code}: ${output}`)));
      child.once('error', reject);
    }),
    10000,
    'upstream-sim start',
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url,
    port: Number(new URL(url).port),
    credentials: credsFile ? readFileSync(credsFile, 'utf8').trim() : undefined,
    async stop() {
      child.kill('SIGTERM');
      await within(exited, 5000, 'upstream-sim stop');
    },
  };
}

/**
 * The fake Docker engine and CLI, installed for wrangler through WRANGLER_DOCKER_HOST and
 * WRANGLER_DOCKER_BIN. The containers reach `sim` through workerd's egress (see engine.mjs).
 */
export async function startFakeDocker({ scratch, sim }) {
  checkVersions();
  checkHost();
  const dir = path.join(scratch, 'docker');
  mkdirSync(dir, { recursive: true });
  const engine = new FakeDockerEngine({
    dir,
    binaries: { '/usr/local/bin/claude-proxy': binaries().proxy },
    // The one change the fake makes to the container's environment (see engine.mjs).
    extraEnv: { UPSTREAM_URL: sim.url, OAUTH_TOKEN_URL: `${sim.url}/v1/oauth/token` },
    egressTargets: [{ host: '127.0.0.1', port: sim.port }],
  });
  await engine.start();
  const cli = path.join(dir, 'docker');
  writeFileSync(
    cli,
    `#!/bin/sh\nFAKE_DOCKER_SOCKET='${engine.socketPath}' ` +
      `exec '${process.execPath}' '${path.join(here, 'fake-docker', 'cli.mjs')}' "$@"\n`,
  );
  chmodSync(cli, 0o755);
  process.env.WRANGLER_DOCKER_BIN = cli;
  process.env.WRANGLER_DOCKER_HOST = `unix://${engine.socketPath}`;
  return engine;
}

/**
 * The fake engine speaks the Docker protocol of one workerd/miniflare/wrangler: another version
 * stops the suite here, with what to re-check, instead of failing somewhere obscure.
 */
function checkVersions() {
  const installed = Object.fromEntries(
    Object.keys(LOCKED_VERSIONS).map((name) => [
      name,
      JSON.parse(readFileSync(path.join(EDGE, 'node_modules', name, 'package.json'), 'utf8')).version,
    ]),
  );
  if (JSON.stringify(installed) !== JSON.stringify(LOCKED_VERSIONS))
    throw new Error(
      `edge/test/e2e/fake-docker/engine.mjs was written for ${JSON.stringify(LOCKED_VERSIONS)}, but ` +
        `${JSON.stringify(installed)} is installed: re-check the Docker calls of workerd's ` +
        'container-client.c++ and wrangler/miniflare, adapt the fake, then update LOCKED_VERSIONS',
    );
}

/** A Docker API call made directly to the fake engine (what an operator's `docker kill` does). */
export function dockerApi(engine, method, apiPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: engine.socketPath, method, path: apiPath, timeout: 10000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

export function scratchDir() {
  return mkdtempSync(path.join(os.tmpdir(), 'edge-e2e-'));
}

export function removeScratch(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The repository's wrangler.toml with `main` and `image` made absolute, in the scratch
 * directory (as edge/test.sh does for the dry-run bundle): wrangler keeps .wrangler/ next to
 * its config, and nothing may be left in the repository. Everything else is the file verbatim.
 */
function configCopy(scratch) {
  const original = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const copy = original
    .replace(/^main = "edge\//m, `main = "${EDGE}/`)
    .replace(/^image = "\.\/Dockerfile"/m, `image = "${ROOT}/Dockerfile"`);
  if (copy === original || !copy.includes(`main = "${EDGE}/`) || !copy.includes(`image = "${ROOT}/Dockerfile"`))
    throw new Error('wrangler.toml: expected main = "edge/..." and image = "./Dockerfile"');
  const dir = path.join(scratch, 'config');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'wrangler.toml'), copy);
  return path.join(dir, 'wrangler.toml');
}

function toBindings(values) {
  const names = [...SECRETS, ...VARS];
  const missing = names.filter((n) => !Object.hasOwn(values, n));
  const unknown = Object.keys(values).filter((n) => !names.includes(n));
  if (missing.length || unknown.length)
    throw new Error(`pin every secret and var (undefined = absent): missing ${missing}, unknown ${unknown}`);
  const bindings = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    bindings[name] = { type: SECRETS.includes(name) ? 'secret_text' : 'plain_text', value };
  }
  return bindings;
}

/**
 * Starts the Worker in workerd with exactly `values` as its secrets and vars. Returns its URL,
 * `request()` (fetch with a timeout), `deploySecrets()` (a secrets-only redeploy) and `stop()`.
 */
export async function startEdge({ scratch, values }) {
  // Offline: no fetch of the Request.cf object; wrangler's info lines only with E2E_VERBOSE.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
  if (!process.env.E2E_VERBOSE) process.env.WRANGLER_LOG ??= 'warn';
  const { unstable_DevEnv } = await import('wrangler');
  const config = configCopy(scratch);
  // An empty env file instead of .dev.vars/.env lookups: nothing outside `values` leaks in.
  const envFile = path.join(scratch, 'empty.env');
  writeFileSync(envFile, '');
  process.env.CLOUDFLARE_INCLUDE_PROCESS_ENV = 'false';
  const devEnv = new unstable_DevEnv();
  const worker = await within(
    devEnv.startWorker({
      config,
      envFiles: [envFile],
      bindings: toBindings(values),
      dev: {
        server: { hostname: '127.0.0.1', port: 0 },
        inspector: false,
        watch: false,
        persist: path.join(scratch, 'state'),
        containerBuildId: CONTAINER_BUILD_ID,
        enableContainers: true,
      },
    }),
    30000,
    'startWorker',
  );
  await within(worker.ready, 30000, 'worker ready');
  const url = await worker.url;
  checkBindings(worker, values);

  const request = (pathname, init = {}) =>
    fetch(new URL(pathname, url), { ...init, signal: init.signal ?? AbortSignal.timeout(20000) });

  return {
    url,
    worker,
    request,
    /** A deploy that changes secrets and vars only: same code, same image, containers kept. */
    async deploySecrets(newValues) {
      const reloaded = new Promise((resolve) => devEnv.once('reloadComplete', resolve));
      await within(worker.patchConfig({ bindings: toBindings(newValues) }), 30000, 'patchConfig');
      await within(reloaded, 30000, 'reload after patchConfig');
      checkBindings(worker, newValues);
    },
    async stop() {
      await within(devEnv.teardown(), 20000, 'worker teardown');
    },
  };
}

/** The Worker got exactly the pinned secrets and vars (besides its Durable Object binding). */
function checkBindings(worker, values) {
  const got = Object.entries(worker.config.bindings ?? {})
    .filter(([, b]) => b.type !== 'durable_object_namespace')
    .map(([name, b]) => [name, b.value])
    .sort();
  const want = Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .sort();
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`the Worker's bindings are not the pinned ones: got ${got.map(([n]) => n)}, want ${want.map(([n]) => n)}`);
}

// ---- Anthropic API helpers -----------------------------------------------------------------

export function messageBody({ stream = false, text = 'Hello' } = {}) {
  return JSON.stringify({ model: MODEL, max_tokens: 128, stream, messages: [{ role: 'user', content: text }] });
}

export function jsonHeaders(key, extra = {}) {
  return { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...(key ? { 'x-api-key': key } : {}), ...extra };
}

/**
 * Reads an SSE response event by event, recording when each event arrived (ms since `t0`).
 * `onEvent` runs as each one arrives. Bounded by `timeout`.
 */
export async function readEvents(res, { t0 = Date.now(), onEvent, timeout = 20000 } = {}) {
  const events = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  const read = async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let sep;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const lines = block.split('\n');
        const name = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
        const data = lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (!name && !data) continue; // a comment (keep-alive)
        const event = { name, data: data ? JSON.parse(data) : undefined, at: Date.now() - t0 };
        events.push(event);
        await onEvent?.(event);
      }
    }
  };
  await within(read(), timeout, 'reading the event stream');
  return events;
}

/** The JSON body of the HTTP request in a captured egress byte stream (content-length or chunked). */
export function httpRequestBody(bytes) {
  const text = bytes.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = text.slice(0, end);
  let body = text.slice(end + 4);
  if (/^transfer-encoding:\s*chunked/im.test(head)) {
    let out = '';
    for (;;) {
      const nl = body.indexOf('\r\n');
      const size = parseInt(body.slice(0, nl), 16);
      if (!(size > 0)) break;
      out += body.slice(nl + 2, nl + 2 + size);
      body = body.slice(nl + 2 + size + 2);
    }
    body = out;
  } else {
    const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? body.length);
    body = body.slice(0, length);
  }
  return { head, body };
}
