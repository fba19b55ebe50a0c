// The deploy and creds:push entry points, run for real as far as they go offline: in an
// empty home with no Cloudflare login, they must stop early with a clear message.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const edge = join(dirname(fileURLToPath(import.meta.url)), '..');
const home = mkdtempSync(join(tmpdir(), 'edge-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function runScript(script, args = [], extraEnv = {}) {
  const env = {
    PATH: [join(edge, 'node_modules', '.bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    ...extraEnv,
  };
  return spawnSync(process.execPath, [join(edge, 'scripts', script), ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

describe('entry scripts', () => {
  it('deploy stops when wrangler is not logged in, before reading or uploading anything', () => {
    const out = runScript('deploy.mjs', [], { ANTHROPIC_API_KEY: 'sk-ant-api03-must-not-appear' });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('wrangler is not logged in to Cloudflare. Run `npx wrangler login`');
    expect(out.stdout + out.stderr).not.toContain('must-not-appear');
    expect(out.stdout).not.toContain('Uploading secret');
  });

  it('deploy refuses an unknown flag with its usage, before anything else', () => {
    const out = runScript('deploy.mjs', ['--force']);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('unknown argument: --force');
    expect(out.stderr).toContain('usage: npm run deploy [-- --credentials] [-- --delete-api-key]');
    expect(out.stderr).not.toContain('wrangler is not logged in');
  });

  it('creds:push explains its usage without a URL', () => {
    const out = runScript('creds-push.mjs');
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('usage: npm run creds:push -- https://<worker>.<account>.workers.dev [--force]');
  });

  it('creds:push reads ~/.claude/.credentials.json and refuses to send the key over plain http', () => {
    mkdirSync(join(home, '.claude'), { recursive: true });
    writeFileSync(
      join(home, '.claude', '.credentials.json'),
      JSON.stringify({ claudeAiOauth: { accessToken: 'sk-ant-oat01-x', refreshToken: 'sk-ant-ort01-x', expiresAt: 4102444800000 } }),
    );
    const out = runScript('creds-push.mjs', ['http://proxy.test'], { ADMIN_API_KEY: 'adm' });
    expect(out.status).toBe(1);
    expect(out.stdout).toContain(`Credentials from ${join(home, '.claude', '.credentials.json')}, valid for about`);
    expect(out.stderr).toContain('the Worker URL must be https://');
    expect(out.stdout + out.stderr).not.toContain('sk-ant-');
  });
});
