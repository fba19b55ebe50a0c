// wrangler.toml and the code agree: the pool cap in edge/src/routing.ts is max_instances.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_INSTANCES } from '../src/routing';

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
});
