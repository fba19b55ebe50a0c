// Small HTTP helpers shared by the Worker and the Container class.

/** An error in the Anthropic shape, so SDKs and agents report it sensibly. */
export function apiError(status: number, type: string, message: string): Response {
  return Response.json({ type: 'error', error: { type, message } }, { status });
}

/**
 * Read a small body (credentials) as text, giving up past `limit` bytes without reading
 * the rest. Returns undefined when the body is too large.
 */
export async function readTextLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<string | undefined> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

export function isJsonContentType(headers: Headers): boolean {
  return /^application\/json\s*(;|$)/i.test(headers.get('content-type') ?? '');
}

/**
 * The Containers library does not throw when a container cannot start or a relay to it breaks:
 * containerFetch() answers with a text/plain error of its own ("Failed to start container: ...",
 * "Container suddenly disconnected, try again", "Error proxying request to container: ...",
 * "There is no Container instance available ..."). Those become an Anthropic-shaped 503,
 * which SDKs retry; the library's text is not passed on (it may quote internals). Anything
 * else, the proxy's and the upstream's answers included, goes through untouched: both carry a
 * request-id, the library's answers none.
 */
export async function anthropicShaped(res: Response): Promise<Response> {
  if (res.status < 500 || res.headers.has('request-id') || !/^text\/plain/i.test(res.headers.get('content-type') ?? ''))
    return res;
  const text = await readTextLimited(res.clone().body, 4096);
  const failure = text !== undefined && LIBRARY_FAILURES.find((prefix) => text.startsWith(prefix));
  if (!failure) return res; // another text: passed on as it came
  await res.body?.cancel();
  return apiError(503, 'api_error', `The proxy container is not available (${failure.replace(/[:.]$/, '')}); retry shortly`);
}

const LIBRARY_FAILURES = [
  'Failed to start container',
  'Container suddenly disconnected',
  'Error proxying request to container',
  'There is no Container instance available',
];
