// Shared by every *.test.mjs here: starts the upstream simulator and claude-proxy in front of it
// (PROXY_BIN and SIM_BIN come from ctest), on loopback with free ports, and stops them after the
// file's tests. node --test runs each file in its own process, so each file gets its own pair.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SIM_KEY = 'sim-upstream-key';
export const PROXY_KEY = 'proxy-client-key';
export const MODEL = 'claude-sonnet-4-6';

const children = [];

/** Starts a process and resolves with the first stdout/stderr line matching `pattern` (which
 * ends with the newline: output may arrive split mid-line). */
function startAndWaitFor(bin, args, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const timer = setTimeout(() => reject(new Error(`${bin} did not start in time`)), 15000);
    let seen = '';
    const onData = (chunk) => {
      seen += chunk.toString();
      const m = seen.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new Error(`${bin} could not start: ${err.message}`)));
    child.on('exit', (code) => reject(new Error(`${bin} exited early with ${code}: ${seen}`)));
  });
}

function stopAll() {
  for (const c of children.splice(0)) {
    c.kill('SIGTERM');
    // Output no longer matters; open pipes must not keep this process alive.
    c.stdout.destroy();
    c.stderr.destroy();
  }
}

// A test file that dies without running after() must not leave the servers behind.
process.on('exit', stopAll);

/**
 * Registers before/after hooks that start the simulator and the proxy; returns an object whose
 * simUrl and proxyUrl (base URLs without /v1) are filled in once before() has run.
 */
export function useServers() {
  const servers = { simUrl: undefined, proxyUrl: undefined, proxyPid: undefined };
  before(async () => {
    assert.ok(process.env.PROXY_BIN && process.env.SIM_BIN,
      'PROXY_BIN and SIM_BIN must be set (ctest does this)');
    servers.simUrl = await startAndWaitFor(process.env.SIM_BIN,
      ['--port', '0', '--api-key', SIM_KEY], {},
      /upstream-sim listening on (http:\/\/\S+)\r?\n/);
    const home = mkdtempSync(join(tmpdir(), 'proxy-sdk-home-'));
    servers.proxyUrl = await startAndWaitFor(process.env.PROXY_BIN,
      ['--port', '0', '--no-request-log'], {
        HOME: home, ANTHROPIC_API_KEY: SIM_KEY, UPSTREAM_URL: servers.simUrl, PROXY_API_KEY: PROXY_KEY,
      }, /claude-proxy listening on (http:\/\/\S+)\r?\n/);
    servers.proxyPid = children.at(-1).pid;
  });
  after(stopAll);
  return servers;
}
