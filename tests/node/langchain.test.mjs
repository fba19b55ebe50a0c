// LangChain's ChatAnthropic (`@langchain/anthropic`, which brings its own copy of the Anthropic
// SDK), pointed once at the proxy and once at the simulator directly, must end with the same
// message. The simulator answers with a tool_use block when the request has tools
// (sim/scenarios.cpp, parse_message_request), text otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatAnthropic } from '@langchain/anthropic';
import { z } from 'zod';
import { useServers, SIM_KEY, PROXY_KEY, MODEL } from './harness.mjs';

const servers = useServers();
// No LangSmith tracing (it would send every run to a remote service), whatever the environment says.
process.env.LANGSMITH_TRACING = 'false';
process.env.LANGCHAIN_TRACING_V2 = 'false';

// This client wants the base URL without /v1: it adds it.
const chat = (baseUrl, apiKey) => new ChatAnthropic({
  anthropicApiUrl: baseUrl, apiKey, model: MODEL, maxTokens: 256, maxRetries: 0,
});
const viaProxy = () => chat(servers.proxyUrl, PROXY_KEY);
const direct = () => chat(servers.simUrl, SIM_KEY);

/** The parts of an AIMessage(Chunk) a caller uses, without the per-request message id. */
function comparable(message) {
  assert.match(message.id, /^msg_/);
  const { id, ...metadata } = message.response_metadata;
  const { id: kwargsId, ...kwargs } = message.additional_kwargs;
  if (kwargsId !== undefined) assert.equal(kwargsId, message.id);
  return {
    content: message.content,
    text: message.text,
    tool_calls: message.tool_calls,
    invalid_tool_calls: message.invalid_tool_calls,
    additional_kwargs: kwargs,
    usage_metadata: message.usage_metadata,
    response_metadata: metadata,
  };
}

/** Streams `input` through `model` and concatenates the chunks into one message. */
async function streamed(model, input) {
  let whole;
  let chunks = 0;
  for await (const chunk of await model.stream(input)) {
    whole = whole === undefined ? chunk : whole.concat(chunk);
    chunks += 1;
  }
  return { whole, chunks };
}

const question = 'Say hello.';

test('ChatAnthropic.invoke(): the same message through the proxy', async () => {
  const proxied = comparable(await viaProxy().invoke(question));
  const reference = comparable(await direct().invoke(question));
  assert.deepEqual(proxied, reference);
  assert.ok(proxied.text.startsWith('Hello from the upstream simulator.'), proxied.text);
  assert.deepEqual(proxied.tool_calls, []);
  assert.equal(proxied.response_metadata.stop_reason, 'end_turn');
  assert.ok(proxied.usage_metadata.input_tokens > 0 && proxied.usage_metadata.output_tokens > 0);
});

test('ChatAnthropic.stream(): the same chunks, concatenated, through the proxy', async () => {
  const proxied = await streamed(viaProxy(), question);
  const reference = await streamed(direct(), question);
  const whole = comparable(proxied.whole);
  assert.deepEqual(whole, comparable(reference.whole));
  assert.equal(proxied.chunks, reference.chunks);
  // The simulator sends the text in 4 text_delta events.
  assert.ok(proxied.chunks > 4, `${proxied.chunks} chunks`);
  assert.ok(whole.text.startsWith('Hello from the upstream simulator.'), whole.text);
  assert.deepEqual(whole.tool_calls, []);
  assert.ok(whole.usage_metadata.input_tokens > 0 && whole.usage_metadata.output_tokens > 0);
});

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  schema: z.object({ location: z.string(), unit: z.enum(['celsius', 'fahrenheit']).optional() }),
};

test('ChatAnthropic.bindTools(): the same tool call through the proxy, invoked and streamed', async () => {
  const input = 'What is the weather in Paris?';
  const proxied = comparable(await viaProxy().bindTools([weather]).invoke(input));
  const reference = comparable(await direct().bindTools([weather]).invoke(input));
  assert.deepEqual(proxied, reference);
  const call = { name: 'get_weather', args: { location: 'Paris', unit: 'celsius' }, id: 'toolu_sim_1', type: 'tool_call' };
  assert.deepEqual(proxied.tool_calls, [call]);
  assert.equal(proxied.text, "I'll look that up with the tool.");
  assert.equal(proxied.response_metadata.stop_reason, 'tool_use');

  const proxiedStream = await streamed(viaProxy().bindTools([weather]), input);
  const referenceStream = await streamed(direct().bindTools([weather]), input);
  const whole = comparable(proxiedStream.whole);
  assert.deepEqual(whole, comparable(referenceStream.whole));
  assert.equal(proxiedStream.chunks, referenceStream.chunks);
  // Streamed, the tool input arrives as input_json_delta pieces that LangChain joins.
  assert.deepEqual(whole.tool_calls, [call]);
  assert.equal(whole.text, "I'll look that up with the tool.");
});
