// wrangler.toml and the code agree: the pool cap in edge/src/routing.ts is max_instances.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_INSTANCES, sleepAfter } from '../src/routing';

const toml = readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8');

describe('wrangler.toml', () => {
  it("max_instances is the code's MAX_INSTANCES, and API_KEY_INSTANCES fits under it", () => {
    const maxInstances = Number(/^max_instances\s*=\s*(\d+)/m.exec(toml)?.[1]);
    expect(maxInstances).toBe(3);
    expect(MAX_INSTANCES).toBe(maxInstances);
    const configured = Number(/^API_KEY_INSTANCES\s*=\s*"(\d+)"/m.exec(toml)?.[1]);
    expect(configured).toBeGreaterThanOrEqual(1);
    expect(configured).toBeLessThanOrEqual(maxInstances);
  });

  it('SLEEP_AFTER is a duration the Containers library accepts', () => {
    const value = /^SLEEP_AFTER\s*=\s*"([^"]*)"/m.exec(toml)?.[1];
    expect(value).toBeDefined();
    expect(sleepAfter({ SLEEP_AFTER: value }).error).toBeUndefined();
  });
});

describe('package-lock.json', () => {
  it('locks every platform build of workerd, so npm ci installs one on a Mac or Windows too', () => {
    const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
    const workerd = lock.packages['node_modules/workerd'];
    const builds = Object.keys(workerd.optionalDependencies);
    expect(builds).toEqual(expect.arrayContaining(['@cloudflare/workerd-darwin-64', '@cloudflare/workerd-darwin-arm64']));
    for (const name of builds) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, name).toBeDefined();
      expect(entry.version).toBe(workerd.optionalDependencies[name]);
      expect(entry.integrity).toMatch(/^sha512-/);
    }
  });
});
