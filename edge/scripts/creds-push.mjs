#!/usr/bin/env node
// npm run creds:push -- https://<worker>.<account>.workers.dev [--force]
// Sends this machine's Claude Code credentials to a deployed Worker's admin route, which
// stores them and hands them to the running container: the way to give the cloud fresh
// tokens when the token endpoint refuses to refresh from a datacenter address.
import { describeExpiry, findCredentials } from './lib/credentials.mjs';
import { describeAnswer, pushRequest } from './lib/push.mjs';

const args = process.argv.slice(2);
const force = args.includes('--force');
const workerUrl = args.find((a) => !a.startsWith('--')) ?? process.env.WORKER_URL;

function fail(message) {
  console.error(`✘ ${message}`);
  process.exit(1);
}

if (!workerUrl) fail('usage: npm run creds:push -- https://<worker>.<account>.workers.dev [--force]  (or set WORKER_URL)');

let request;
try {
  const credential = findCredentials({ oauthOnly: true });
  console.log(`Credentials from ${credential.source}, ${describeExpiry(credential.expiresAt)}.`);
  request = pushRequest(workerUrl, credential.json, process.env.ADMIN_API_KEY, { force });
} catch (err) {
  fail(err.message);
}

let res;
try {
  res = await fetch(request);
} catch (err) {
  fail(`could not reach ${new URL(request.url).origin}: ${err.message}`);
}
const body = await res.json().catch(() => undefined);
const line = describeAnswer(res.status, body);
if (!res.ok) fail(line);
console.log(`✔ ${line}`);
