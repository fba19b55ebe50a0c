// Edge authentication: the same rules as the proxy (x-api-key or Authorization: Bearer),
// checked before any container is touched, so a stranger never wakes one.

import { apiError } from './http';

const encoder = new TextEncoder();

/**
 * Constant-time string comparison. Both sides are hashed first, so the comparison always
 * runs over 32 bytes and neither the content nor the length of the secret leaks through
 * timing.
 */
export async function secureEquals(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** The keys a client presented: the x-api-key header and an Authorization: Bearer token. */
export function clientKeys(headers: Headers): { apiKey?: string; bearer?: string } {
  const apiKey = headers.get('x-api-key') ?? undefined;
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get('authorization') ?? '')?.[1]?.trim();
  return { apiKey, bearer };
}

/**
 * True when no key is configured, or when either header carries the configured key: the
 * same rule as the C++ proxy, so a request the edge lets through is never refused by the
 * proxy for its key, and the other way round. Both headers are always compared, each in
 * constant time, so the timing does not tell which one matched.
 */
export async function clientAllowed(headers: Headers, proxyApiKey: string | undefined): Promise<boolean> {
  if (!proxyApiKey) return true;
  const { apiKey, bearer } = clientKeys(headers);
  const [apiKeyOk, bearerOk] = await Promise.all([
    secureEquals(apiKey ?? '', proxyApiKey),
    secureEquals(bearer ?? '', proxyApiKey),
  ]);
  return (apiKey !== undefined && apiKeyOk) || (bearer !== undefined && bearerOk);
}

export function unauthorized(): Response {
  return apiError(
    401,
    'authentication_error',
    'Invalid or missing proxy API key (send it as x-api-key or Authorization: Bearer)',
  );
}
