// Finding the user's credentials on their own machine. Pure where it can be: the system
// calls (keychain, file, environment) are parameters, so tests need none of them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

export const KEYCHAIN_SERVICE = 'Claude Code-credentials';

/**
 * Decode a Claude Code credentials document, raw JSON or hex-encoded JSON (the macOS
 * keychain may hold either). Returns the JSON text and its expiry. Errors never quote
 * the input: it is a secret.
 */
export function decodeCredentials(text) {
  let json = String(text).trim();
  if (json.length > 0 && json.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(json)) {
    json = Buffer.from(json, 'hex').toString('utf8').trim();
  }
  let doc;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error('the credentials are not JSON (raw or hex-encoded)');
  }
  const oauth = doc?.claudeAiOauth;
  if (typeof oauth !== 'object' || oauth === null) throw new Error('the credentials have no claudeAiOauth object');
  if (typeof oauth.accessToken !== 'string' || !oauth.accessToken) throw new Error('claudeAiOauth.accessToken is missing');
  if (typeof oauth.refreshToken !== 'string' || !oauth.refreshToken) throw new Error('claudeAiOauth.refreshToken is missing');
  if (typeof oauth.expiresAt !== 'number') throw new Error('claudeAiOauth.expiresAt is missing');
  return { json, expiresAt: oauth.expiresAt };
}

/**
 * Where Claude Code keeps its credentials. With CLAUDE_CONFIG_DIR set it uses that folder's
 * .credentials.json and the keychain service "Claude Code-credentials-" followed by the first
 * 8 hex digits of the SHA-256 of the folder's path (NFC-normalized); without it,
 * ~/.claude/.credentials.json and the plain service name.
 */
export function claudeCredentialLocations(env = process.env, home = homedir()) {
  const configDir = env.CLAUDE_CONFIG_DIR?.trim();
  if (!configDir) return { service: KEYCHAIN_SERVICE, file: join(home, '.claude', '.credentials.json') };
  const hash = createHash('sha256').update(configDir.normalize('NFC')).digest('hex').slice(0, 8);
  return { service: `${KEYCHAIN_SERVICE}-${hash}`, file: join(configDir, '.credentials.json') };
}

function readKeychain(account, service = KEYCHAIN_SERVICE) {
  return execFileSync('security', ['find-generic-password', '-s', service, '-a', account, '-w'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/**
 * The credential to deploy: ANTHROPIC_API_KEY from the environment if set (the supported
 * way, and the proxy's own first choice); else the Claude Code OAuth pair from the macOS
 * keychain or the credentials file (CLAUDE_CREDENTIALS_FILE, else Claude Code's own: see
 * claudeCredentialLocations, which follows CLAUDE_CONFIG_DIR).
 * `oauthOnly` skips the API key (creds:push has no use for one).
 */
export function findCredentials({
  env = process.env,
  platform = process.platform,
  home = homedir(),
  keychain = readKeychain,
  readFile = (path) => readFileSync(path, 'utf8'),
  oauthOnly = false,
} = {}) {
  if (!oauthOnly && env.ANTHROPIC_API_KEY?.trim()) {
    return { kind: 'api_key', value: env.ANTHROPIC_API_KEY.trim(), source: 'ANTHROPIC_API_KEY' };
  }
  const tried = [];
  const where = claudeCredentialLocations(env, home);
  if (platform === 'darwin') {
    const account = env.USER || userInfo().username;
    let text;
    try {
      text = keychain(account, where.service);
    } catch {
      tried.push(`macOS keychain item "${where.service}" for account "${account}": not found`);
    }
    if (text !== undefined) return { kind: 'oauth', ...decodeCredentials(text), source: 'macOS keychain' };
  }
  const file = env.CLAUDE_CREDENTIALS_FILE || where.file;
  let text;
  try {
    text = readFile(file);
  } catch {
    tried.push(`${file}: not readable`);
  }
  if (text !== undefined) return { kind: 'oauth', ...decodeCredentials(text), source: file };
  const hint = oauthOnly
    ? 'Log in with Claude Code on this machine first (`claude`, then /login).'
    : 'Set ANTHROPIC_API_KEY (the supported way), or log in with Claude Code on this machine first.';
  throw new Error(`No credentials found.\n  ${tried.join('\n  ')}\n${hint}`);
}

/** A human-readable expiry, for messages. */
export function describeExpiry(expiresAt, now = Date.now()) {
  const minutes = Math.round((expiresAt - now) / 60_000);
  if (minutes <= 0) return `expired ${new Date(expiresAt).toISOString()} (the proxy refreshes it with the refresh token)`;
  return `valid for about ${minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`}`;
}
