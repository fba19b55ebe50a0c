// A stand-in for @cloudflare/containers (used through vi.mock): the parts of the Container
// base class that ProxyContainer relies on, with the library's documented behaviour:
// envVars is read when the container starts, fetch/containerFetch start it if needed and
// pass the Request (body stream included) to the container's port unread.
const outboundByHostRegistry = new Map<string, Record<string, unknown>>();

export class Container<Env = unknown> {
  static get outboundByHost(): Record<string, any> | undefined {
    return outboundByHostRegistry.get(this.name);
  }
  static set outboundByHost(handlers: Record<string, any>) {
    outboundByHostRegistry.set(this.name, handlers);
  }

  defaultPort?: number;
  sleepAfter: string | number = '10m';
  envVars: Record<string, string> = {};

  constructor(
    public ctx: any,
    public env: Env,
  ) {}

  async getState(): Promise<{ status: string; lastChange: number }> {
    return { status: this.ctx.container.running ? 'healthy' : 'stopped', lastChange: 0 };
  }

  async fetch(request: Request): Promise<Response> {
    // Like the library: a switchPort() header picks another port.
    const port = Number(request.headers.get('cf-container-target-port') ?? this.defaultPort);
    return this.containerFetch(request, port);
  }

  async containerFetch(requestOrUrl: Request | string, portOrInit?: number | RequestInit): Promise<Response> {
    const request =
      requestOrUrl instanceof Request ? requestOrUrl : new Request(requestOrUrl, portOrInit as RequestInit);
    const port = typeof portOrInit === 'number' ? portOrInit : this.defaultPort!;
    if (!this.ctx.container.running) this.ctx.container.start({ env: this.envVars });
    return this.ctx.container.getTcpPort(port).fetch(request.url, request);
  }
}

export class ContainerProxy {}

export function getContainer(ns: any, name = 'cf-singleton-container'): any {
  return ns.get(ns.idFromName(name));
}

export async function getRandom(ns: any, n = 3): Promise<any> {
  return ns.get(ns.idFromName(`instance-${Math.floor(Math.random() * n)}`));
}
