#!/usr/bin/env node
// npm run deploy: upload the credential (and the keys found in the environment) as
// Worker secrets through wrangler's standard input, then `wrangler deploy`, which builds
// the container image with the local Docker. See DEPLOYMENT.md.
import { describeExpiry, findCredentials } from './lib/credentials.mjs';
import { loggedIn, putSecret, run, wrangler, wranglerEnv } from './lib/wrangler.mjs';

function fail(message) {
  console.error(`\n✘ ${message}`);
  process.exit(1);
}

async function dockerRunning() {
  const docker = process.env.WRANGLER_DOCKER_BIN || 'docker';
  try {
    const { code } = await run(docker, ['info'], { capture: true, env: wranglerEnv() });
    return code === 0;
  } catch {
    return false; // not installed
  }
}

if (!(await loggedIn())) {
  fail('wrangler is not logged in to Cloudflare. Run `npx wrangler login` in edge/ (or set CLOUDFLARE_API_TOKEN), then try again.');
}
if (!(await dockerRunning())) {
  fail(
    'Docker is not running (or not installed). wrangler builds the container image from ./Dockerfile with it.\n' +
      '  Start Docker Desktop (or the docker service) and check with `docker info`.',
  );
}

let credential;
try {
  credential = findCredentials();
} catch (err) {
  fail(err.message);
}

const secrets = [];
if (credential.kind === 'api_key') {
  console.log(`Credential: Anthropic API key from ${credential.source}.`);
  secrets.push(['ANTHROPIC_API_KEY', credential.value]);
} else {
  console.log(`Credential: Claude Code OAuth pair from ${credential.source}, ${describeExpiry(credential.expiresAt)}.`);
  console.log(
    "Note: Anthropic's terms say subscription OAuth credentials are for Claude Code and Claude.ai and\n" +
      'not permitted in other tools; API keys are the supported way. See README.md.',
  );
  secrets.push(['CLAUDE_OAUTH_CREDS', credential.json]);
}
// Optional keys: uploaded when set in the environment, otherwise the stored ones stay.
for (const name of ['PROXY_API_KEY', 'ADMIN_API_KEY']) {
  if (process.env[name]) secrets.push([name, process.env[name]]);
}
if (!process.env.PROXY_API_KEY) {
  console.log(
    'PROXY_API_KEY is not set here: the secret stored by an earlier deploy stays. Without one, anyone\n' +
      'who finds the Worker URL can use your credential (set PROXY_API_KEY and deploy again).',
  );
}

for (const [name, value] of secrets) {
  console.log(`\nUploading secret ${name} ...`);
  try {
    await putSecret(name, value);
  } catch (err) {
    fail(err.message);
  }
}

console.log('\nDeploying (builds and pushes the container image; the first time takes a few minutes) ...');
const { code } = await wrangler(['deploy']);
if (code !== 0) fail(`wrangler deploy failed (exit ${code}).`);
console.log(
  '\n✔ Deployed. Check it with: curl https://<worker>.<account>.workers.dev/health\n' +
    '  A new container takes a few minutes to be provisioned after the first deploy.',
);
