#!/usr/bin/env node
// npm run deploy [-- --credentials] [-- --delete-api-key]: upload the credential (and the
// keys found in the environment) as Worker secrets through wrangler's standard input, then
// `wrangler deploy`, which builds the container image with the local Docker. What is
// uploaded is decided in lib/plan.mjs; see DEPLOYMENT.md.
import { describeExpiry, findCredentials } from './lib/credentials.mjs';
import { parseDeployArgs, planSecrets } from './lib/plan.mjs';
import { deleteSecret, listSecrets, loggedIn, putSecret, run, wrangler, wranglerEnv } from './lib/wrangler.mjs';

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

let flags;
try {
  flags = parseDeployArgs(process.argv.slice(2));
} catch (err) {
  fail(err.message);
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
if (credential.kind === 'api_key') {
  console.log(`Credential: Anthropic API key from ${credential.source}.`);
} else {
  console.log(`Credential: Claude Code OAuth pair from ${credential.source}, ${describeExpiry(credential.expiresAt)}.`);
  console.log(
    "Note: Anthropic's terms say subscription OAuth credentials are for Claude Code and Claude.ai and\n" +
      'not permitted in other tools; API keys are the supported way. See README.md.',
  );
}

// Which secrets the Worker already has (names only; none on the first deploy).
let existing;
try {
  existing = await listSecrets();
} catch (err) {
  fail(err.message);
}

const plan = planSecrets({ credential, existing, flags, env: process.env });
if (!plan.ok) fail(plan.error);
for (const note of plan.notes) console.log(note);

for (const name of plan.deletes) {
  console.log(`\nDeleting secret ${name} ...`);
  try {
    await deleteSecret(name);
    // wrangler asks for confirmation on a terminal: check it is really gone.
    if ((await listSecrets()).has(name)) fail(`${name} is still set (deletion not confirmed?); nothing was uploaded or deployed.`);
  } catch (err) {
    fail(err.message);
  }
}

for (const [name, value] of plan.uploads) {
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
