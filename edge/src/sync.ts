// The container's side door to its own Durable Object: when the proxy refreshes OAuth
// tokens it POSTs the new pair to CREDENTIALS_SYNC_URL before using it. The Container
// class intercepts that host (outboundByHost), so this code runs as Worker code, and only
// requests made by the container itself ever reach it: no public route leads here.
import type { Env } from './env';
import { apiError, isJsonContentType, readTextLimited } from './http';
import { MAX_CREDENTIALS_BYTES, parseCredentials } from './credentials';

/** What the interception hands a handler: which container instance sent the request. */
export interface SyncContext {
  containerId: string;
}

/**
 * Store a rotated pair in the sending container's Durable Object storage. The pair is
 * always written (the container is about to use it, so it is the live one, whatever a
 * stored pair's expiry says), and the answer is 204 only once the write is durable (the
 * RPC returns after the storage write is confirmed); any other answer makes the proxy
 * retry before it uses the new tokens.
 */
export async function handleSync(request: Request, env: Env, ctx: SyncContext): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname !== '/sync') return apiError(404, 'not_found_error', 'Not found');
  if (request.method !== 'POST') return apiError(405, 'invalid_request_error', 'Use POST');
  if (!isJsonContentType(request.headers))
    return apiError(415, 'invalid_request_error', 'Content-Type must be application/json');
  const text = await readTextLimited(request.body, MAX_CREDENTIALS_BYTES);
  if (text === undefined) return apiError(413, 'request_too_large', 'Credentials body too large');
  const parsed = parseCredentials(text);
  if (!parsed.ok) return apiError(400, 'invalid_request_error', parsed.error);

  try {
    const ns = env.PROXY_CONTAINER;
    const outcome = await ns.get(ns.idFromString(ctx.containerId)).syncCredentials(parsed.credentials.json);
    // syncCredentials always writes; this only guards the 204 against a future change.
    if (!outcome.stored) throw new Error('the pair was not written');
    return new Response(null, { status: 204 });
  } catch (err) {
    // Not stored: the proxy must not use the new pair yet, and will retry.
    console.error('credential sync: storage write failed:', err instanceof Error ? err.message : 'unknown error');
    return apiError(503, 'api_error', 'Credentials could not be stored; retry');
  }
}
