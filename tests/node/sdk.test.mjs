// Real client libraries, pointed once at the proxy and once at the simulator directly, must end
// with the same answer: the official Anthropic TypeScript SDK, and the openai SDK on the
// upstream's OpenAI-compatible chat completions. Everything runs on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { useServers, SIM_KEY, PROXY_KEY, MODEL } from './harness.mjs';

const servers = useServers();

const viaProxy = () => new Anthropic({ baseURL: servers.proxyUrl, apiKey: PROXY_KEY, maxRetries: 0 });
const direct = () => new Anthropic({ baseURL: servers.simUrl, apiKey: SIM_KEY, maxRetries: 0 });

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
  const client = new Anthropic({ baseURL: servers.proxyUrl, apiKey: 'wrong', maxRetries: 0 });
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
const openaiViaProxy = () => new OpenAI({ baseURL: `${servers.proxyUrl}/v1`, apiKey: PROXY_KEY, maxRetries: 0 });
const openaiDirect = () => new OpenAI({ baseURL: `${servers.simUrl}/v1`, apiKey: SIM_KEY, maxRetries: 0 });
const chatRequest = { model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }] };

/** A chat completion or chunk without its per-request id. */
function comparableChat(answer) {
  const { id, ...rest } = answer;
  assert.match(id, /^chatcmpl-/);
  return rest;
}

// The simulator's /v1/chat/completions answers text only, whatever the request holds (it reads
// model, messages and stream; it never answers tool_calls). The tool below still makes the body
// the upstream sees bigger, and the simulator's usage.prompt_tokens is body bytes / 4 + 1, so an
// equal prompt_tokens through the proxy means the tool definition reached the upstream intact.
const chatToolRequest = {
  ...chatRequest,
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } }],
  tool_choice: 'auto',
};

test('openai chat.completions.create() with a tool, without streaming: same answer through the proxy', async () => {
  const proxied = await openaiViaProxy().chat.completions.create(chatToolRequest);
  const reference = await openaiDirect().chat.completions.create(chatToolRequest);
  assert.deepEqual(comparableChat(proxied), comparableChat(reference));
  const [choice] = proxied.choices;
  assert.equal(choice.message.role, 'assistant');
  assert.ok(choice.message.content.length > 0);
  // What the simulator does today (see above): text, no tool call.
  assert.equal(choice.finish_reason, 'stop');
  assert.equal(choice.message.tool_calls, undefined);
  const { tools, tool_choice, ...withoutTool } = chatToolRequest;
  const plain = await openaiViaProxy().chat.completions.create(withoutTool);
  const toolBytes = JSON.stringify({ tools, tool_choice }).length;
  assert.ok(proxied.usage.prompt_tokens - plain.usage.prompt_tokens >= Math.floor(toolBytes / 4) - 1,
    `the tool definition reached the upstream (${proxied.usage.prompt_tokens} vs ${plain.usage.prompt_tokens} prompt tokens)`);
});

test('openai chat.completions.create() with a tool, streaming: the same chunks through the proxy', async () => {
  const collect = async (client) => {
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ ...chatToolRequest, stream: true }))
      chunks.push(comparableChat(chunk));
    return chunks;
  };
  const proxied = await collect(openaiViaProxy());
  assert.deepEqual(proxied, await collect(openaiDirect()));
  assert.ok(proxied.length >= 3, `${proxied.length} chunks`);
  assert.equal(proxied[0].choices[0].delta.role, 'assistant');
  assert.equal(proxied.at(-1).choices[0].finish_reason, 'stop');
  assert.ok(proxied.every((c) => c.choices[0].delta.tool_calls === undefined));
  const text = proxied.map((c) => c.choices[0].delta.content ?? '').join('');
  assert.ok(text.length > 0);
});

test('openai SDK with the base URL one /v1 off gets a 404 that names the right one', async () => {
  const client = new OpenAI({ baseURL: servers.proxyUrl, apiKey: PROXY_KEY, maxRetries: 0 });
  await assert.rejects(client.chat.completions.create(chatRequest), (err) => {
    assert.equal(err.status, 404);
    assert.match(err.error?.error?.message ?? err.message, new RegExp(`use the base URL ${servers.proxyUrl}/v1`));
    return true;
  });
});

