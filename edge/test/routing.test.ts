import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_SYNC_URL,
  OAUTH_OWNER,
  containerEnv,
  credentialMode,
  instanceNames,
  isProxiedPath,
  sleepAfter,
  pickInstance,
} from '../src/routing';
import type { Env } from '../src/env';

const env = (vars: Partial<Env>) => vars as Env;

describe('mode and instances', () => {
  it('OAuth mode has exactly one owner, whatever API_KEY_INSTANCES says', () => {
    const e = env({ CLAUDE_OAUTH_CREDS: '{}', API_KEY_INSTANCES: '5' });
    expect(credentialMode(e)).toBe('oauth');
    expect(instanceNames(e)).toEqual([OAUTH_OWNER]);
    expect(pickInstance(e, () => 0.99)).toBe(OAUTH_OWNER);
    expect(instanceNames(env({}))).toEqual([OAUTH_OWNER]);
  });

  it('an API key wins over OAuth credentials and spreads over N instances', () => {
    const e = env({ ANTHROPIC_API_KEY: 'sk-ant-api03-x', CLAUDE_OAUTH_CREDS: '{}', API_KEY_INSTANCES: '3' });
    expect(credentialMode(e)).toBe('api_key');
    expect(instanceNames(e)).toEqual(['pool-0', 'pool-1', 'pool-2']);
    expect(pickInstance(e, () => 0)).toBe('pool-0');
    expect(pickInstance(e, () => 0.5)).toBe('pool-1');
    expect(pickInstance(e, () => 0.999)).toBe('pool-2');
  });

  it('falls back to 2 instances on a missing or bad count, and caps it at max_instances', () => {
    expect(instanceNames(env({ ANTHROPIC_API_KEY: 'k' }))).toHaveLength(2);
    expect(instanceNames(env({ ANTHROPIC_API_KEY: 'k', API_KEY_INSTANCES: 'zero' }))).toHaveLength(2);
    expect(instanceNames(env({ ANTHROPIC_API_KEY: 'k', API_KEY_INSTANCES: '0' }))).toHaveLength(2);
    expect(instanceNames(env({ ANTHROPIC_API_KEY: 'k', API_KEY_INSTANCES: '4' }))).toEqual(['pool-0', 'pool-1', 'pool-2']);
    expect(instanceNames(env({ ANTHROPIC_API_KEY: 'k', API_KEY_INSTANCES: '500' }))).toHaveLength(3);
  });


  it('relays only /v1/*', () => {
    expect(isProxiedPath('/v1/messages')).toBe(true);
    expect(isProxiedPath('/v1/models/claude-sonnet-4-6')).toBe(true);
    expect(isProxiedPath('/v1')).toBe(false);
    expect(isProxiedPath('/v10/messages')).toBe(false);
    expect(isProxiedPath('/admin/credentials')).toBe(false);
  });
});

describe('containerEnv', () => {
  it("OAuth mode: the pair, the container's own key (never the client's), the sync URL, no demo mode", () => {
    expect(containerEnv(env({ PROXY_API_KEY: 'pk' }), '{"claudeAiOauth":{}}', 'admin-k')).toEqual({
      HOST: '0.0.0.0',
      PORT: '8080',
      CREDENTIALS_SYNC_URL: 'http://credentials.internal/sync',
      PROXY_API_KEY: 'admin-k',
      PROXY_ADMIN_KEY: 'admin-k',
      REQUIRE_CREDENTIALS: '1',
      CLAUDE_OAUTH_CREDS: '{"claudeAiOauth":{}}',
    });
    expect(CREDENTIALS_SYNC_URL).toBe('http://credentials.internal/sync');
  });

  it('API key mode: the key and no OAuth pair', () => {
    const vars = containerEnv(env({ ANTHROPIC_API_KEY: 'sk-ant-api03-x' }), '{"claudeAiOauth":{}}', 'admin-k');
    expect(vars.ANTHROPIC_API_KEY).toBe('sk-ant-api03-x');
    expect(vars.REQUIRE_CREDENTIALS).toBe('1');
    expect(vars).not.toHaveProperty('CLAUDE_OAUTH_CREDS');
    expect(vars.PROXY_API_KEY).toBe('admin-k');
  });

  it('no credentials at all: REQUIRE_CREDENTIALS=1 still, so the proxy refuses to start rather than run demo mode', () => {
    const vars = containerEnv(env({}), undefined, 'admin-k');
    expect(Object.keys(vars).sort()).toEqual(['CREDENTIALS_SYNC_URL', 'HOST', 'PORT', 'PROXY_ADMIN_KEY', 'PROXY_API_KEY', 'REQUIRE_CREDENTIALS']);
    expect(vars.REQUIRE_CREDENTIALS).toBe('1');
  });
});

describe('SLEEP_AFTER', () => {
  it('takes what the Containers library accepts, and falls back with a reason otherwise', () => {
    expect(sleepAfter({ SLEEP_AFTER: '30s' } as any)).toEqual({ value: '30s' });
    expect(sleepAfter({ SLEEP_AFTER: '2h' } as any)).toEqual({ value: '2h' });
    expect(sleepAfter({} as any)).toEqual({ value: '10m' });
    expect(sleepAfter({ SLEEP_AFTER: '' } as any)).toEqual({ value: '10m' });
    for (const bad of ['10 minutes', '10', '1d', '-5m', '0m', 'm']) {
      const r = sleepAfter({ SLEEP_AFTER: bad } as any);
      expect(r.value).toBe('10m');
      expect(r.error).toContain(`SLEEP_AFTER ${JSON.stringify(bad)} is not a duration like 30s, 10m or 1h`);
    }
  });
});
