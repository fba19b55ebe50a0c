// Fakes for what the Workers runtime gives a Container Durable Object: its storage, its
// container (ctx.container), and a namespace that hands out one object per name.
import { ProxyContainer } from '../../src/container';
import type { Env } from '../../src/env';
import { MemoryStorage } from './storage';

export { MemoryStorage, creds } from './storage';

type App = (request: Request, startEnv: Record<string, string>) => Response | Promise<Response>;

/** The container as the runtime exposes it: start with an environment, stop, a TCP port. */
export class FakeContainerRuntime {
  running = false;
  /** The environment of every start, in order. */
  starts: Record<string, string>[] = [];
  /** Requests the container's port received. */
  received: Request[] = [];

  constructor(public app: App = () => new Response('no app')) {}

  start(options?: { env?: Record<string, string> }): void {
    this.running = true;
    this.starts.push({ ...(options?.env ?? {}) });
  }
  /** What sleepAfter or a rollout does: SIGTERM, and the process is gone. */
  stop(): void {
    this.running = false;
  }
  get currentEnv(): Record<string, string> {
    return this.starts.at(-1) ?? {};
  }
  /** Ports requests were sent to. */
  ports: number[] = [];

  getTcpPort(port: number) {
    this.ports.push(port);
    return {
      fetch: async (url: string, init?: RequestInit | Request) => {
        if (!this.running) throw new Error('container is not listening');
        const request = init instanceof Request ? init : new Request(url, init);
        this.received.push(request);
        return this.app(request, this.currentEnv);
      },
    };
  }
}

export interface Instance {
  object: ProxyContainer;
  storage: MemoryStorage;
  container: FakeContainerRuntime;
}

/** A Durable Object namespace: one ProxyContainer per name, ids that round-trip as strings. */
export class FakeNamespace {
  instances = new Map<string, Instance>();
  env!: Env;

  constructor(private app: App = () => new Response('no app')) {}

  idFromName(name: string) {
    return { name, toString: () => `id:${name}` };
  }
  idFromString(id: string) {
    if (!id.startsWith('id:')) throw new Error('bad id');
    return this.idFromName(id.slice(3));
  }
  get(id: { name: string }): ProxyContainer {
    return this.instance(id.name).object;
  }
  instance(name: string): Instance {
    let found = this.instances.get(name);
    if (!found) {
      const storage = new MemoryStorage();
      const container = new FakeContainerRuntime(this.app);
      const ctx = { storage, container, id: this.idFromName(name) };
      found = { object: new ProxyContainer(ctx as any, this.env), storage, container };
      this.instances.set(name, found);
    }
    return found;
  }
}

export function makeEnv(vars: Partial<Env> = {}, app?: App): Env & { PROXY_CONTAINER: FakeNamespace } {
  const ns = new FakeNamespace(app);
  const env = { SLEEP_AFTER: '10m', API_KEY_INSTANCES: '2', ...vars, PROXY_CONTAINER: ns } as any;
  ns.env = env;
  return env;
}
