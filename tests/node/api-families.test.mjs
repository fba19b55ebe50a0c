// The official SDK's Message Batches, Files and Skills through the proxy, each compared with the
// same call made directly to the simulator. The upload is 64 MiB: the simulator checks its bytes
// by hash, and the proxy's resident memory is sampled while it passes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import { useServers, SIM_KEY, PROXY_KEY, MODEL } from './harness.mjs';

const servers = useServers();
const viaProxy = () => new Anthropic({ baseURL: servers.proxyUrl, apiKey: PROXY_KEY, maxRetries: 0 });
const direct = () => new Anthropic({ baseURL: servers.simUrl, apiKey: SIM_KEY, maxRetries: 0 });

/** An object without the fields that differ per call (ids, times, the origin in URLs). */
function comparable(object, ...drop) {
  const copy = { ...object };
  for (const key of ['id', 'created_at', 'ended_at', 'expires_at', 'cancel_initiated_at', ...drop]) delete copy[key];
  return copy;
}

const batchRequests = [
  { custom_id: 'weather', params: { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Weather?' }],
    tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }] } },
  { custom_id: 'hello', params: { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }] } },
];

async function batchRoundTrip(client) {
  const created = await client.messages.batches.create({ requests: batchRequests });
  assert.equal(created.processing_status, 'in_progress');
  const ended = await client.messages.batches.retrieve(created.id);
  assert.equal(ended.processing_status, 'ended');
  // results() fetches results_url with this client's own key: it must name the proxy for the
  // proxy's client (the proxy key would be refused anywhere else).
  const results = [];
  for await (const line of await client.messages.batches.results(created.id)) results.push(line);
  const listed = await client.messages.batches.list({ limit: 10 });
  return { created, ended, results, listed: listed.data.map((b) => b.id) };
}

test('messages.batches: create, retrieve, results (through results_url), list: same as direct', async () => {
  const proxied = await batchRoundTrip(viaProxy());
  const straight = await batchRoundTrip(direct());
  assert.equal(new URL(proxied.ended.results_url).origin, servers.proxyUrl);
  assert.equal(new URL(straight.ended.results_url).origin, servers.simUrl);
  assert.deepEqual(comparable(proxied.created), comparable(straight.created));
  assert.deepEqual(comparable(proxied.ended, 'results_url'), comparable(straight.ended, 'results_url'));
  assert.deepEqual(new URL(proxied.ended.results_url).pathname, new URL(straight.ended.results_url).pathname.replace(straight.ended.id, proxied.ended.id));
  const withoutIds = (lines) => lines.map((l) => ({ ...l, result: { ...l.result, message: comparable(l.result.message) } }));
  assert.deepEqual(withoutIds(proxied.results), withoutIds(straight.results));
  assert.deepEqual(proxied.results.map((l) => [l.custom_id, l.result.type, l.result.message.stop_reason]),
    [['weather', 'succeeded', 'tool_use'], ['hello', 'succeeded', 'end_turn']]);
  assert.ok(proxied.listed.includes(proxied.created.id));
});

test('messages.batches: cancel and delete through the proxy', async () => {
  const client = viaProxy();
  const created = await client.messages.batches.create({ requests: batchRequests.slice(1) });
  await assert.rejects(client.messages.batches.delete(created.id), (err) => err instanceof Anthropic.BadRequestError);
  const canceling = await client.messages.batches.cancel(created.id);
  assert.equal(canceling.processing_status, 'canceling');
  const deleted = await client.messages.batches.delete(created.id);
  assert.deepEqual(deleted, { id: created.id, type: 'message_batch_deleted' });
  await assert.rejects(client.messages.batches.retrieve(created.id), (err) => err instanceof Anthropic.NotFoundError);
});

/** The resident memory of process `pid`, in KiB. */
function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}

test('beta.files: a 64 MiB upload streams through, bytes intact, proxy memory flat; download too', async () => {
  const size = 64 * 1024 * 1024;
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  const before = rssKiB(servers.proxyPid);
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(servers.proxyPid)); }, 5);
  let uploaded;
  let downloaded;
  try {
    uploaded = await viaProxy().beta.files.upload({ file: await toFile(bytes, 'big.bin', { type: 'application/octet-stream' }) });
    downloaded = Buffer.from(await (await viaProxy().beta.files.download(uploaded.id)).arrayBuffer());
  } finally {
    clearInterval(sampler);
  }
  const growthKiB = peak - before;
  console.log(`proxy RSS ${before} KiB before, ${peak} KiB at most during a 64 MiB upload and download (+${growthKiB} KiB)`);
  assert.ok(growthKiB < 8 * 1024, `the proxy's RSS grew by ${growthKiB} KiB`);

  const check = await (await fetch(`${servers.simUrl}/_sim/files/${uploaded.id}`)).json();
  assert.deepEqual(check, { sha256, size_bytes: size });
  assert.equal(downloaded.length, size);
  assert.ok(downloaded.equals(bytes));

  const straight = await direct().beta.files.upload({ file: await toFile(bytes, 'big.bin', { type: 'application/octet-stream' }) });
  assert.deepEqual(comparable(uploaded), comparable(straight));
  assert.equal(uploaded.size_bytes, size);

  const meta = await viaProxy().beta.files.retrieveMetadata(uploaded.id);
  assert.deepEqual(meta, uploaded);
  const listed = [];
  for await (const f of viaProxy().beta.files.list()) listed.push(f.id);
  assert.ok(listed.includes(uploaded.id));
  assert.deepEqual(await viaProxy().beta.files.delete(uploaded.id), { id: uploaded.id, type: 'file_deleted' });
});

test('beta.skills.list: same as direct', async () => {
  const proxied = [];
  for await (const s of viaProxy().beta.skills.list()) proxied.push(s);
  const straight = [];
  for await (const s of direct().beta.skills.list()) straight.push(s);
  assert.ok(proxied.length >= 2);
  assert.deepEqual(proxied, straight);
});
