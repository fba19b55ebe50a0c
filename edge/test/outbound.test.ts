// With the real @cloudflare/containers (only the runtime module stubbed): the library's
// ContainerProxy, which the runtime calls for intercepted container traffic, reaches our
// sync handler. This is what breaks if the handler is declared in a way the library's
// static setter never sees.
import { describe, expect, it, vi } from 'vitest';
import { ContainerProxy } from '@cloudflare/containers';
import { ProxyContainer } from '../src/container';
import { handleSync } from '../src/sync';
import { creds } from './support/storage';

describe('outbound interception with the real library', () => {
  it('registers credentials.internal for ProxyContainer', () => {
    expect(ProxyContainer.outboundByHost).toEqual({ 'credentials.internal': handleSync });
  });

  it("routes the container's POST to the sync handler, which stores through its own Durable Object", async () => {
    const syncCredentials = vi.fn(async (json: string) => ({ stored: true, expiresAt: JSON.parse(json).claudeAiOauth.expiresAt }));
    const ids: string[] = [];
    const env = {
      PROXY_CONTAINER: {
        idFromString: (id: string) => (ids.push(id), { id }),
        get: () => ({ syncCredentials }),
      },
    };
    const props = { className: 'ProxyContainer', containerId: 'do-id-of-the-sender', enableInternet: false, interceptAll: false };
    const proxy = new (ContainerProxy as any)({ props }, env);
    const body = creds(1_900_000_000_000, 'rotated');
    const res: Response = await proxy.fetch(
      new Request('http://credentials.internal/sync', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
    expect(res.status).toBe(204);
    expect(ids).toEqual(['do-id-of-the-sender']);
    expect(syncCredentials).toHaveBeenCalledExactlyOnceWith(body);
  });
});
