import { describe, expect, it } from 'vitest';
import { clientAllowed, clientKey, secureEquals, unauthorized } from '../src/auth';

describe('secureEquals', () => {
  it('is true only for identical strings', async () => {
    expect(await secureEquals('s3cret-key', 's3cret-key')).toBe(true);
    expect(await secureEquals('s3cret-key', 's3cret-kez')).toBe(false);
    expect(await secureEquals('s3cret', 's3cret-key')).toBe(false);
    expect(await secureEquals('', 's3cret-key')).toBe(false);
    expect(await secureEquals('', '')).toBe(true);
  });

  it('compares fixed-size digests, so work does not depend on where strings differ', async () => {
    // The loop runs over SHA-256 digests: same length whatever the inputs' lengths.
    const long = 'x'.repeat(10_000);
    expect(await secureEquals(long, long)).toBe(true);
    expect(await secureEquals(long, 'y' + long.slice(1))).toBe(false);
    expect(await secureEquals(long, long.slice(1) + 'y')).toBe(false);
  });
});

describe('clientKey', () => {
  it('reads x-api-key first, then a Bearer token', () => {
    expect(clientKey(new Headers({ 'x-api-key': 'k1', authorization: 'Bearer k2' }))).toBe('k1');
    expect(clientKey(new Headers({ authorization: 'Bearer k2' }))).toBe('k2');
    expect(clientKey(new Headers({ authorization: 'bearer   k3 ' }))).toBe('k3');
    expect(clientKey(new Headers({ authorization: 'Basic abc' }))).toBeUndefined();
    expect(clientKey(new Headers())).toBeUndefined();
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
    expect(await clientAllowed(new Headers(), 'right')).toBe(false);
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
