import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientAllowed, clientKeys, secureEquals, unauthorized } from '../src/auth';

afterEach(() => vi.restoreAllMocks());

/** The inputs of every SHA-256 digest taken while `fn` runs, as text. */
async function digested(fn: () => Promise<unknown>): Promise<string[]> {
  const digest = vi.spyOn(crypto.subtle, 'digest');
  try {
    await fn();
    expect(digest.mock.calls.every(([algorithm]) => algorithm === 'SHA-256')).toBe(true);
    return digest.mock.calls.map(([, data]) => new TextDecoder().decode(data as Uint8Array));
  } finally {
    digest.mockRestore();
  }
}

describe('secureEquals', () => {
  it('is true only for identical strings', async () => {
    expect(await secureEquals('s3cret-key', 's3cret-key')).toBe(true);
    expect(await secureEquals('s3cret-key', 's3cret-kez')).toBe(false);
    expect(await secureEquals('s3cret', 's3cret-key')).toBe(false);
    expect(await secureEquals('', 's3cret-key')).toBe(false);
    expect(await secureEquals('', '')).toBe(true);
  });

  it('hashes both inputs the same way and compares the digests, whatever their lengths', async () => {
    // Both sides go through SHA-256 in full, so the compared bytes are always 32 and
    // neither where the strings differ nor the secret's length changes the work.
    const long = 'x'.repeat(10_000);
    expect(await digested(() => secureEquals(long, 'short-secret'))).toEqual([long, 'short-secret']);
    expect(await digested(() => secureEquals('', long))).toEqual(['', long]);
    expect(await secureEquals(long, long)).toBe(true);
    expect(await secureEquals(long, 'y' + long.slice(1))).toBe(false);
    expect(await secureEquals(long, long.slice(1) + 'y')).toBe(false);
  });
});

describe('clientKeys', () => {
  it('reads the x-api-key header and a Bearer token, each on its own', () => {
    expect(clientKeys(new Headers({ 'x-api-key': 'k1', authorization: 'Bearer k2' }))).toEqual({ apiKey: 'k1', bearer: 'k2' });
    expect(clientKeys(new Headers({ authorization: 'Bearer k2' }))).toEqual({ apiKey: undefined, bearer: 'k2' });
    expect(clientKeys(new Headers({ authorization: 'bearer   k3 ' }))).toEqual({ apiKey: undefined, bearer: 'k3' });
    expect(clientKeys(new Headers({ authorization: 'Basic abc' }))).toEqual({ apiKey: undefined, bearer: undefined });
    expect(clientKeys(new Headers())).toEqual({ apiKey: undefined, bearer: undefined });
  });
});

describe('clientAllowed', () => {
  it('lets everyone in when no key is configured', async () => {
    expect(await clientAllowed(new Headers(), undefined)).toBe(true);
    expect(await clientAllowed(new Headers(), '')).toBe(true);
  });
  it('requires the configured key in either header', async () => {
    expect(await clientAllowed(new Headers({ 'x-api-key': 'right' }), 'right')).toBe(true);
    expect(await clientAllowed(new Headers({ authorization: 'Bearer right' }), 'right')).toBe(true);
    expect(await clientAllowed(new Headers({ 'x-api-key': 'wrong' }), 'right')).toBe(false);
    expect(await clientAllowed(new Headers({ authorization: 'Bearer wrong' }), 'right')).toBe(false);
    expect(await clientAllowed(new Headers({ authorization: 'right' }), 'right')).toBe(false);
    expect(await clientAllowed(new Headers(), 'right')).toBe(false);
  });

  it('allows the request when either header matches, like the proxy', async () => {
    expect(await clientAllowed(new Headers({ 'x-api-key': 'wrong', authorization: 'Bearer right' }), 'right')).toBe(true);
    expect(await clientAllowed(new Headers({ 'x-api-key': 'right', authorization: 'Bearer wrong' }), 'right')).toBe(true);
    expect(await clientAllowed(new Headers({ 'x-api-key': 'wrong', authorization: 'Bearer wrong' }), 'right')).toBe(false);
  });

  it('always compares both headers in constant time, whichever matched', async () => {
    // Two comparisons (four digests) every time: the timing does not tell which header
    // matched, or whether the first one did.
    const key = 'right';
    const both = new Headers({ 'x-api-key': key, authorization: 'Bearer other' });
    expect(await digested(() => clientAllowed(both, key))).toEqual([key, key, 'other', key]);
    expect(await digested(() => clientAllowed(new Headers({ authorization: `Bearer ${key}` }), key))).toEqual(['', key, key, key]);
    expect(await digested(() => clientAllowed(new Headers(), key))).toHaveLength(4);
  });
});

describe('unauthorized', () => {
  it('is an Anthropic-shaped 401', async () => {
    const res = unauthorized();
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      type: 'error',
      error: {
        type: 'authentication_error',
        message: 'Invalid or missing proxy API key (send it as x-api-key or Authorization: Bearer)',
      },
    });
  });
});
