// The Worker: the public face. It authenticates at the edge, answers what it can itself,
// and relays /v1/* to a container with both bodies streamed, never buffered.
import { getContainer } from '@cloudflare/containers';
import type { Env } from './env';
import { clientAllowed, secureEquals, unauthorized } from './auth';
import { apiError, readTextLimited } from './http';
import { MAX_CREDENTIALS_BYTES, noCredentialMessage, parseCredentials, startCredential } from './credentials';
import { OAUTH_OWNER, credentialMode, instanceNames, isProxiedPath, pickInstance, sleepAfter } from './routing';
import type { InstanceHealth, PushOutcome } from './container';

export async function handleRequest(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === '/health') return health(request, env, url);
  if (url.pathname === '/admin/credentials') return adminCredentials(request, env, url);
  if (!isProxiedPath(url.pathname)) return apiError(404, 'not_found_error', `Not found: ${url.pathname}`);

  if (!(await clientAllowed(request.headers, env.PROXY_API_KEY))) return unauthorized();
  // The Request goes to the Durable Object with its body stream untouched, and the container's
  // response (SSE included) comes back as the same stream.
  try {
    return await getContainer(env.PROXY_CONTAINER, pickInstance(env)).fetch(withClientScheme(request, url));
  } catch (err) {
    return unreachable(err);
  }
}

/**
 * The request with X-Forwarded-Proto set to the scheme the client used. The container is
 * reached over plain http, and the proxy names its own origin in batch answers (results_url,
 * which the SDKs fetch with the client's key): it must say https when the client came so.
 */
function withClientScheme(request: Request, url: URL): Request {
  const headers = new Headers(request.headers);
  headers.set('x-forwarded-proto', url.protocol === 'https:' ? 'https' : 'http');
  return new Request(request, { headers });
}

/**
 * An exception from the Durable Object (a container that cannot start, an object reset by a
 * deploy) as Anthropic-shaped JSON instead of a bare 500 or the platform's error page. 503:
 * SDKs retry it. The message names the error's kind only: error texts may quote settings.
 */
function unreachable(err: unknown): Response {
  const kind = err instanceof Error ? err.name : 'Error';
  return apiError(503, 'api_error', `The proxy container could not be reached (${kind}); retry shortly`);
}

/**
 * The Worker's own state and the overall status, plus each instance's state for a caller
 * with the proxy key (or anyone, when PROXY_API_KEY is not set). Without the key, only a
 * summary: the instances are asked just for what the status needs. A sleeping container is
 * reported as such, not woken: only `?wake=1` (with the key) starts it.
 *
 * Status: 200 `ok`; 503 `no_credential` when a container could not start for lack of any
 * credential (no API key, no usable CLAUDE_OAUTH_CREDS, nothing stored); 503 `degraded`
 * when an instance could not be asked, or a running container said it cannot serve.
 */
async function health(request: Request, env: Env, url: URL): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return apiError(405, 'invalid_request_error', `Method ${request.method} is not allowed on this path`);
  const detail = await clientAllowed(request.headers, env.PROXY_API_KEY);
  const wake = url.searchParams.get('wake') === '1';
  if (wake && !detail) return unauthorized();

  const names = instanceNames(env);
  const containers = await Promise.all(
    names.map(async (name): Promise<{ name: string } & Partial<InstanceHealth>> => {
      try {
        const report: InstanceHealth = await getContainer(env.PROXY_CONTAINER, name).health({ wake, detail });
        return { name, ...report };
      } catch (err) {
        return { name, error: detail && err instanceof Error ? err.message : 'instance unreachable' };
      }
    }),
  );
  const noCredential = containers.some((c) => c.credential === 'none');
  const sleep = sleepAfter(env);
  const healthy =
    !sleep.error && containers.every((c) => !c.error && (c.status === undefined || c.status === 200));
  const status = noCredential ? 'no_credential' : healthy ? 'ok' : 'degraded';

  const body: Record<string, unknown> = { status };
  if (noCredential) {
    // Storage was empty (else there would be a credential), so the secrets alone say why.
    const start = startCredential(env, undefined);
    body.message = noCredentialMessage(start.kind === 'none' ? start.reason : 'no OAuth pair is stored');
  }
  body.worker = detail
    ? {
        status: 'ok',
        mode: credentialMode(env),
        edge_auth: Boolean(env.PROXY_API_KEY),
        admin_route: Boolean(env.ADMIN_API_KEY),
        instances: names.length,
        sleep_after: sleep.value,
        ...(sleep.error ? { config_errors: [sleep.error] } : {}),
      }
    : { status: 'ok', mode: credentialMode(env), instances: names.length };
  if (detail) body.containers = containers;
  return Response.json(body, { status: status === 'ok' ? 200 : 503, headers: { 'cache-control': 'no-store' } });
}

/**
 * POST /admin/credentials (x-admin-key: ADMIN_API_KEY): a Claude Code credentials document,
 * raw JSON or hex, pushed from the user's machine. Stored in the owner's Durable Object,
 * then handed to its running container. `?force=1` stores it even if storage holds a pair
 * that expires later.
 */
async function adminCredentials(request: Request, env: Env, url: URL): Promise<Response> {
  if (!env.ADMIN_API_KEY)
    return apiError(404, 'not_found_error', 'Not found: the admin route is off (set the ADMIN_API_KEY secret)');
  if (!(await secureEquals(request.headers.get('x-admin-key') ?? '', env.ADMIN_API_KEY)))
    return apiError(401, 'authentication_error', 'Invalid or missing x-admin-key');
  if (request.method !== 'POST')
    return apiError(405, 'invalid_request_error', `Method ${request.method} is not allowed on this path`);
  if (credentialMode(env) === 'api_key')
    return apiError(
      409,
      'invalid_request_error',
      'ANTHROPIC_API_KEY is set: the proxy uses the API key and ignores OAuth credentials',
    );

  const text = await readTextLimited(request.body, MAX_CREDENTIALS_BYTES);
  if (text === undefined) return apiError(413, 'request_too_large', 'Credentials body too large');
  const parsed = parseCredentials(text);
  if (!parsed.ok) return apiError(400, 'invalid_request_error', parsed.error);

  const force = url.searchParams.get('force') === '1';
  let outcome: PushOutcome;
  try {
    outcome = await getContainer(env.PROXY_CONTAINER, OAUTH_OWNER).pushCredentials(parsed.credentials.json, force);
  } catch (err) {
    return unreachable(err);
  }
  if (!outcome.ok) return apiError(400, 'invalid_request_error', outcome.error);

  const expiresAt = new Date(outcome.store.expiresAt).toISOString();
  if (!outcome.store.stored) {
    return Response.json(
      {
        status: 'not_stored',
        stored: false,
        container: outcome.container,
        stored_expires_at: expiresAt,
        message: 'Storage holds a pair that expires later; send ?force=1 to replace it anyway',
      },
      { status: 409 },
    );
  }
  const messages = {
    delivered: 'Stored, and the running container switched to it',
    not_running: 'Stored; no container is running, the next one starts with it',
    rejected: 'Stored, but the running container refused it; it starts with it next time',
    unreachable: 'Stored, but the running container could not be reached (starting?); retry',
    skipped: 'Stored',
  } as const;
  const ok = outcome.container === 'delivered' || outcome.container === 'not_running';
  return Response.json(
    {
      status: ok ? 'ok' : 'not_delivered',
      stored: true,
      expires_at: expiresAt,
      container: outcome.container,
      ...(outcome.containerStatus !== undefined ? { container_status: outcome.containerStatus } : {}),
      message: messages[outcome.container],
    },
    { status: ok ? 200 : 502 },
  );
}
