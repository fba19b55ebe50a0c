// Real client libraries, pointed once at the proxy and once at the simulator directly, must end
// with the same answer: the official Anthropic TypeScript SDK, and the openai SDK on the
// upstream's OpenAI-compatible chat completions. Everything runs on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

const PROXY_BIN = process.env.PROXY_BIN;
const SIM_BIN = process.env.SIM_BIN;
const SIM_KEY = 'sim-upstream-key';
const PROXY_KEY = 'proxy-client-key';
const MODEL = 'claude-sonnet-4-6';
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
    child.on('exit', (code) => reject(new Error(`${bin} exited early with ${code}: ${seen}`)));
  });
}

let simUrl;
let proxyUrl;

before(async () => {
  assert.ok(PROXY_BIN && SIM_BIN, 'PROXY_BIN and SIM_BIN must be set (ctest does this)');
  simUrl = await startAndWaitFor(SIM_BIN, ['--port', '0', '--api-key', SIM_KEY], {},
    /upstream-sim listening on (http:\/\/\S+)\r?\n/);
  const home = mkdtempSync(join(tmpdir(), 'proxy-sdk-home-'));
  proxyUrl = await startAndWaitFor(PROXY_BIN, ['--port', '0', '--no-request-log'], {
    HOME: home, ANTHROPIC_API_KEY: SIM_KEY, UPSTREAM_URL: simUrl, PROXY_API_KEY: PROXY_KEY,
  }, /claude-proxy listening on (http:\/\/\S+)\r?\n/);
});

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

const viaProxy = () => new Anthropic({ baseURL: proxyUrl, apiKey: PROXY_KEY, maxRetries: 0 });
const direct = () => new Anthropic({ baseURL: simUrl, apiKey: SIM_KEY, maxRetries: 0 });

/** The final message without the per-request id. */
function comparable(message) {
  const { id, ...rest } = message;
  assert.match(id, /^msg_/);
  return rest;
}

const toolRequest = {
  model: MODEL,
  max_tokens: 512,
  tools: [{ name: 'get_weather', description: 'Weather for a city',
            input_schema: { type: 'object', properties: { location: { type: 'string' } } } }],
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
};
const textRequest = { model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello.' }] };

test('messages.stream() with tool_use: same final message through the proxy', async () => {
  const events = [];
  const stream = viaProxy().messages.stream(toolRequest);
  stream.on('streamEvent', (e) => events.push(e.type));
  const proxied = await stream.finalMessage();
  const reference = await direct().messages.stream(toolRequest).finalMessage();
  assert.deepEqual(comparable(proxied), comparable(reference));
  assert.equal(proxied.stop_reason, 'tool_use');
  const tool = proxied.content.find((b) => b.type === 'tool_use');
  assert.ok(tool, 'a tool_use block');
  assert.equal(tool.name, 'get_weather');
  assert.equal(typeof tool.input, 'object');
  assert.ok(events.includes('message_start') && events.includes('message_stop'));
});

test('messages.stream() with text: same final message through the proxy', async () => {
  let text = '';
  const stream = viaProxy().messages.stream(textRequest);
  stream.on('text', (t) => { text += t; });
  const proxied = await stream.finalMessage();
  const reference = await direct().messages.stream(textRequest).finalMessage();
  assert.deepEqual(comparable(proxied), comparable(reference));
  assert.equal(proxied.content[0].type, 'text');
  assert.equal(text, proxied.content[0].text);
  assert.ok(text.length > 0);
});

test('messages.create() without streaming: same message through the proxy', async () => {
  const proxied = await viaProxy().messages.create(textRequest);
  const reference = await direct().messages.create(textRequest);
  assert.deepEqual(comparable(proxied), comparable(reference));
  assert.ok(proxied.usage.output_tokens > 0);
});

test('a wrong proxy key is an AuthenticationError from the SDK', async () => {
  const client = new Anthropic({ baseURL: proxyUrl, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(client.messages.create(textRequest), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.error?.error?.type, 'authentication_error');
    return true;
  });
});

test('models.list() through the proxy', async () => {
  const ids = [];
  for await (const m of viaProxy().models.list()) ids.push(m.id);
  assert.ok(ids.includes(MODEL));
});

// The openai SDK takes its base URL with /v1 and sends its key as a bearer token.
const openaiViaProxy = () => new OpenAI({ baseURL: `${proxyUrl}/v1`, apiKey: PROXY_KEY, maxRetries: 0 });
const openaiDirect = () => new OpenAI({ baseURL: `${simUrl}/v1`, apiKey: SIM_KEY, maxRetries: 0 });
const chatRequest = { model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }] };

/** A chat completion or chunk without its per-request id. */
function comparableChat(answer) {
  const { id, ...rest } = answer;
  assert.match(id, /^chatcmpl-/);
  return rest;
}

test('openai chat.completions.create() without streaming: same answer through the proxy', async () => {
  const proxied = await openaiViaProxy().chat.completions.create(chatRequest);
  const reference = await openaiDirect().chat.completions.create(chatRequest);
  assert.deepEqual(comparableChat(proxied), comparableChat(reference));
  assert.equal(proxied.choices[0].message.role, 'assistant');
  assert.ok(proxied.choices[0].message.content.length > 0);
});

test('openai chat.completions.create() streaming: the same chunks through the proxy', async () => {
  const collect = async (client) => {
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ ...chatRequest, stream: true }))
      chunks.push(comparableChat(chunk));
    return chunks;
  };
  const proxied = await collect(openaiViaProxy());
  assert.deepEqual(proxied, await collect(openaiDirect()));
  assert.equal(proxied.at(-1).choices[0].finish_reason, 'stop');
  const text = proxied.map((c) => c.choices[0].delta.content ?? '').join('');
  assert.ok(text.length > 0);
});

test('openai SDK with the base URL one /v1 off gets a 404 that names the right one', async () => {
  const client = new OpenAI({ baseURL: proxyUrl, apiKey: PROXY_KEY, maxRetries: 0 });
  await assert.rejects(client.chat.completions.create(chatRequest), (err) => {
    assert.equal(err.status, 404);
    assert.match(err.error?.error?.message ?? err.message, new RegExp(`use the base URL ${proxyUrl}/v1`));
    return true;
  });
});

