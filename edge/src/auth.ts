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

/** The key a client presented: x-api-key first, else an Authorization: Bearer token. */
export function clientKey(headers: Headers): string | undefined {
  const apiKey = headers.get('x-api-key');
  if (apiKey !== null) return apiKey;
  const match = /^Bearer\s+(.+)$/i.exec(headers.get('authorization') ?? '');
  return match?.[1]?.trim();
}

/** True when no key is configured, or when the client presented the configured key. */
export async function clientAllowed(headers: Headers, proxyApiKey: string | undefined): Promise<boolean> {
  if (!proxyApiKey) return true;
  const key = clientKey(headers);
  return key !== undefined && (await secureEquals(key, proxyApiKey));
}

export function unauthorized(): Response {
  return apiError(
    401,
    'authentication_error',
    'Invalid or missing proxy API key (send it as x-api-key or Authorization: Bearer)',
  );
}
