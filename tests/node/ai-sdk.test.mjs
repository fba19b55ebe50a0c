// The Vercel AI SDK (`ai` with `@ai-sdk/anthropic`), pointed once at the proxy and once at the
// simulator directly, must end with the same answer. The simulator answers with a tool_use block
// when the request has tools, and with a thinking block when it has a thinking param (not
// {"type":"disabled"}) and no tools (sim/scenarios.cpp, parse_message_request).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamText, tool } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';
import { useServers, SIM_KEY, PROXY_KEY, MODEL } from './harness.mjs';

const servers = useServers();

// This client wants the base URL with /v1.
const viaProxy = () => createAnthropic({ baseURL: `${servers.proxyUrl}/v1`, apiKey: PROXY_KEY });
const direct = () => createAnthropic({ baseURL: `${servers.simUrl}/v1`, apiKey: SIM_KEY });

/** Runs streamText with `provider` and returns everything it produced but the per-request
 * response metadata (message id, timestamp, headers). */
async function run(provider, options) {
  const result = streamText({ model: provider(MODEL), maxRetries: 0, ...options });
  const parts = [];
  for await (const part of result.fullStream) {
    if (part.type === 'error') throw part.error;
    parts.push(part);
  }
  const response = await result.response;
  assert.match(response.id, /^msg_/);
  return {
    // Steps keep what they report about the answer, not the per-request response (id, time,
    // headers): those are compared where it matters (modelId below).
    parts: parts.map((part) => {
      if (part.type === 'start-step') return { type: part.type, warnings: part.warnings };
      if (part.type === 'finish-step') {
        const { response: _, ...rest } = part;
        return rest;
      }
      return part;
    }),
    text: await result.text,
    reasoningText: await result.reasoningText,
    toolCalls: await result.toolCalls,
    finishReason: await result.finishReason,
    rawFinishReason: await result.rawFinishReason,
    usage: await result.usage,
    providerMetadata: await result.providerMetadata,
    modelId: response.modelId,
  };
}

test('streamText with a tool: the same tool call through the proxy', async () => {
  const options = {
    prompt: 'What is the weather in Paris?',
    maxOutputTokens: 512,
    tools: {
      get_weather: tool({
        description: 'Weather for a city',
        inputSchema: z.object({ location: z.string(), unit: z.enum(['celsius', 'fahrenheit']).optional() }),
      }),
    },
  };
  const proxied = await run(viaProxy(), options);
  const reference = await run(direct(), options);
  assert.deepEqual(proxied, reference);
  assert.equal(proxied.finishReason, 'tool-calls');
  assert.equal(proxied.rawFinishReason, 'tool_use');
  assert.deepEqual(proxied.toolCalls.map(({ toolCallId, toolName, input }) => ({ toolCallId, toolName, input })),
    [{ toolCallId: 'toolu_sim_1', toolName: 'get_weather', input: { location: 'Paris', unit: 'celsius' } }]);
  // The tool input arrived as input_json_delta pieces, not in one piece.
  assert.ok(proxied.parts.filter((p) => p.type === 'tool-input-delta').length >= 2);
  assert.equal(proxied.text, "I'll look that up with the tool.");
  assert.equal(proxied.reasoningText, undefined);
  assert.ok(proxied.usage.inputTokens > 0 && proxied.usage.outputTokens > 0);
  assert.equal(proxied.usage.totalTokens, proxied.usage.inputTokens + proxied.usage.outputTokens);
});

test('streamText with thinking: the same reasoning through the proxy', async () => {
  const options = {
    prompt: 'Say hello.',
    maxOutputTokens: 512,
    providerOptions: { anthropic: { thinking: { type: 'enabled', budgetTokens: 1024 } } },
  };
  const proxied = await run(viaProxy(), options);
  const reference = await run(direct(), options);
  assert.deepEqual(proxied, reference);
  assert.equal(proxied.reasoningText,
    'The user sent a short message. A brief, friendly reply is the right answer here.');
  const types = proxied.parts.map((p) => p.type);
  assert.ok(types.indexOf('reasoning-end') < types.indexOf('text-start'), 'reasoning comes before the text');
  // The signature_delta reaches the client as provider metadata on a reasoning part.
  const signed = proxied.parts.find((p) => p.type === 'reasoning-delta' && p.providerMetadata?.anthropic?.signature);
  assert.ok(signed, 'a signed reasoning part');
  assert.ok(signed.providerMetadata.anthropic.signature.length > 100);
  assert.ok(proxied.text.startsWith('Hello from the upstream simulator.'));
  assert.equal(proxied.toolCalls.length, 0);
  assert.equal(proxied.finishReason, 'stop');
  assert.equal(proxied.rawFinishReason, 'end_turn');
  assert.ok(proxied.usage.inputTokens > 0 && proxied.usage.outputTokens > 0);
});
