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

/** A chat completion or chunk without its per-request ids: its own and its tool calls'. */
function comparableChat(answer) {
  const { id, ...rest } = structuredClone(answer);
  assert.match(id, /^chatcmpl-/);
  for (const choice of rest.choices ?? []) {
    for (const call of (choice.message ?? choice.delta)?.tool_calls ?? []) {
      if (call.id === undefined) continue; // a streamed argument fragment has none
      assert.match(call.id, /^call_/);
      delete call.id;
    }
  }
  return rest;
}

// With a function tool (and tool_choice other than "none") the simulator's /v1/chat/completions
// answers as the upstream's OpenAI layer does: one call of the first tool, finish_reason
// 'tool_calls'. Its usage.prompt_tokens is body bytes / 4 + 1, so an equal prompt_tokens through
// the proxy also means the tool definition reached the upstream intact.
const chatToolRequest = {
  ...chatRequest,
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } }],
  tool_choice: 'auto',
};

/** The one get_weather call of a tool_calls answer's message, its arguments parsed. */
function weatherCall(message) {
  assert.equal(message.role, 'assistant');
  assert.equal(message.tool_calls?.length, 1, JSON.stringify(message));
  const [call] = message.tool_calls;
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.equal(typeof call.function.arguments, 'string');
  const args = JSON.parse(call.function.arguments);
  assert.ok(args !== null && typeof args === 'object' && !Array.isArray(args), call.function.arguments);
  assert.equal(typeof args.location, 'string');
  return { call, args };
}

test('openai chat.completions.create() with a tool, without streaming: the tool call through the proxy', async () => {
  const proxied = await openaiViaProxy().chat.completions.create(chatToolRequest);
  const reference = await openaiDirect().chat.completions.create(chatToolRequest);
  assert.deepEqual(comparableChat(proxied), comparableChat(reference));
  const [choice] = proxied.choices;
  assert.equal(choice.finish_reason, 'tool_calls');
  weatherCall(choice.message);
  assert.ok(proxied.usage.completion_tokens > 0);
  // Without the tool the same conversation is answered with text.
  const { tools, tool_choice, ...withoutTool } = chatToolRequest;
  const plain = await openaiViaProxy().chat.completions.create(withoutTool);
  assert.equal(plain.choices[0].finish_reason, 'stop');
  assert.equal(plain.choices[0].message.tool_calls, undefined);
  assert.ok(plain.choices[0].message.content.length > 0);
  const toolBytes = JSON.stringify({ tools, tool_choice }).length;
  assert.ok(proxied.usage.prompt_tokens - plain.usage.prompt_tokens >= Math.floor(toolBytes / 4) - 1,
    `the tool definition reached the upstream (${proxied.usage.prompt_tokens} vs ${plain.usage.prompt_tokens} prompt tokens)`);
});

test('openai chat.completions.stream() with a tool: the same chunks and tool call through the proxy', async () => {
  const run = async (client) => {
    const chunks = [];
    const done = [];
    const stream = client.chat.completions.stream({ ...chatToolRequest, stream_options: { include_usage: true } });
    stream.on('chunk', (chunk) => chunks.push(comparableChat(chunk)));
    stream.on('tool_calls.function.arguments.done', (e) => done.push(e));
    const final = await stream.finalChatCompletion();
    return { chunks, done, final };
  };
  const proxied = await run(openaiViaProxy());
  const reference = await run(openaiDirect());
  assert.deepEqual(proxied.chunks, reference.chunks);
  assert.deepEqual(comparableChat(proxied.final), comparableChat(reference.final));

  const { chunks } = proxied;
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const deltaCalls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.equal(deltaCalls[0].function.name, 'get_weather');
  assert.equal(deltaCalls[0].function.arguments, '');
  assert.ok(deltaCalls.every((c) => c.index === 0));
  assert.ok(deltaCalls.length >= 3, `the arguments come in fragments (${deltaCalls.length} tool_calls deltas)`);
  // The finish, then (stream_options.include_usage) a usage chunk without choices.
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(chunks.at(-1).choices, []);
  assert.ok(chunks.at(-1).usage.prompt_tokens > 0);

  // Assembled by the SDK: the same tool call as the non-streamed answer.
  const [choice] = proxied.final.choices;
  assert.equal(choice.finish_reason, 'tool_calls');
  const { call, args } = weatherCall(choice.message);
  assert.deepEqual(proxied.done.map(({ name, index, arguments: a }) => ({ name, index, arguments: a })),
    [{ name: 'get_weather', index: 0, arguments: call.function.arguments }]);
  const whole = await openaiViaProxy().chat.completions.create(chatToolRequest);
  assert.equal(choice.message.content, whole.choices[0].message.content);
  assert.deepEqual(args, weatherCall(whole.choices[0].message).args);
  assert.deepEqual(proxied.final.usage, chunks.at(-1).usage);
});

test('openai SDK with the base URL one /v1 off gets a 404 that names the right one', async () => {
  const client = new OpenAI({ baseURL: servers.proxyUrl, apiKey: PROXY_KEY, maxRetries: 0 });
  await assert.rejects(client.chat.completions.create(chatRequest), (err) => {
    assert.equal(err.status, 404);
    assert.match(err.error?.error?.message ?? err.message, new RegExp(`use the base URL ${servers.proxyUrl}/v1`));
    return true;
  });
});

