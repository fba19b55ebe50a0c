// The Container-enabled Durable Object that runs claude-proxy. Each instance owns one
// container; the owner instance in OAuth mode also owns the OAuth pair in its storage.
import { Container } from '@cloudflare/containers';
import type { Env } from './env';
import {
  loadStored,
  noCredentialMessage,
  parseCredentials,
  startCredential,
  storeCredentials,
  type StartCredential,
  type StoreOutcome,
} from './credentials';
import { anthropicShaped, apiError } from './http';
import { CONTAINER_PORT, SYNC_HOST, containerEnv, sleepAfter } from './routing';
import { handleSync } from './sync';

const ADMIN_KEY_KEY = 'proxy:container-admin-key';
/** SHA-256 of the upstream API key the running container holds (started with or pushed). */
const UPSTREAM_KEY_FINGERPRINT = 'proxy:upstream-key-sha256';
const HEALTH_BODY_LIMIT = 64 * 1024;

export type PushOutcome =
  | { ok: false; error: string }
  | {
      ok: true;
      store: StoreOutcome;
      /** What happened in the container: see DEPLOYMENT.md. */
      container: 'delivered' | 'not_running' | 'rejected' | 'unreachable' | 'skipped';
      containerStatus?: number;
    };

export interface InstanceHealth {
  running: boolean;
  state: string;
  /** What a (re)started container gets: 'none' means it would not be started at all. */
  credential: StartCredential['kind'];
  /** HTTP status of the container's own /health, when it was asked. */
  status?: number;
  /** The container's /health JSON, when it was asked with `detail` and answered JSON. */
  health?: unknown;
  error?: string;
  /** Where the stored OAuth pair came from and when it expires (with `detail`): never the tokens. */
  stored_credentials?: { source: string; expires_at: string; stored_at: string };
}

export class ProxyContainer extends Container<Env> {
  defaultPort = CONTAINER_PORT;

  // Registered by assignment so the base class's static setter records the handler
  // (a `static outboundByHost = ...` field would define a property and bypass it).
  static {
    this.outboundByHost = { [SYNC_HOST]: handleSync };
  }

  constructor(ctx: ConstructorParameters<typeof Container<Env>>[0], env: Env) {
    super(ctx, env);
    // Idle time before the container is stopped; a stream in flight counts as activity.
    this.sleepAfter = sleepAfter(env).value;
  }

  // The library probes a starting container with a request to this path (default "ping",
  // which the proxy would log as a 404): its own /health answers it.
  override pingEndpoint = 'localhost/health';

  /**
   * Every proxied request: settle the start environment, then relay (the base class starts
   * the container if needed and streams both bodies). The port is fixed here rather than
   * left to the base fetch, which would honour a client's cf-container-target-port header.
   * With no credential at all, no container is started: the answer is an Anthropic-shaped
   * 503 saying how to configure one.
   */
  override async fetch(request: Request): Promise<Response> {
    const start = await this.prepareStart();
    if (start.kind === 'none') return apiError(503, 'api_error', noCredentialMessage(start.reason));
    if (start.kind === 'running') await this.deliverRotatedKey();
    const res = await this.containerFetch(await this.withContainerKey(request), CONTAINER_PORT);
    return anthropicShaped(res);
  }

  /**
   * The client's request with its key (already checked at the edge) swapped for the one the
   * container requires (see containerEnv). The body stream is passed on untouched.
   */
  private async withContainerKey(request: Request): Promise<Request> {
    const headers = new Headers(request.headers);
    headers.delete('authorization');
    headers.set('x-api-key', await this.containerAdminKey());
    return new Request(request, { headers });
  }

  /**
   * A secrets-only deploy changes ANTHROPIC_API_KEY without restarting the container, which
   * holds the key it started with: hand the running proxy the new one through its admin route
   * before this request goes in. Requests in flight finish with the old key. If the proxy
   * refuses, it keeps the old key and the next request tries again.
   */
  private async deliverRotatedKey(): Promise<void> {
    const key = this.env.ANTHROPIC_API_KEY;
    if (!key) return;
    const fingerprint = await sha256Hex(key);
    if ((await this.ctx.storage.get<string>(UPSTREAM_KEY_FINGERPRINT)) === fingerprint) return;
    try {
      const res = await this.ctx.container!.getTcpPort(CONTAINER_PORT).fetch('http://container/admin/credentials', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-admin-key': await this.containerAdminKey() },
        body: JSON.stringify({ api_key: key }),
      });
      await res.body?.cancel();
      if (res.ok) await this.ctx.storage.put(UPSTREAM_KEY_FINGERPRINT, fingerprint);
    } catch {
      // Unreachable now: the request below reports that; the next one tries again.
    }
  }

  /**
   * envVars is read by the base class when it starts the container, so it is filled in
   * just before any request that may start one. A running container keeps what it was
   * started with; it gets newer pairs through the admin route instead.
   */
  private async prepareStart(): Promise<StartCredential | { kind: 'running' }> {
    if (this.ctx.container?.running) return { kind: 'running' };
    const credential = startCredential(this.env, await loadStored(this.ctx.storage));
    if (credential.kind === 'none') return credential;
    const oauth = credential.kind === 'oauth' ? credential.json : undefined;
    this.envVars = containerEnv(this.env, oauth, await this.containerAdminKey());
    if (this.env.ANTHROPIC_API_KEY)
      await this.ctx.storage.put(UPSTREAM_KEY_FINGERPRINT, await sha256Hex(this.env.ANTHROPIC_API_KEY));
    return credential;
  }

  /**
   * The key the proxy in this container requires on every route, its admin route included.
   * Random, made once per instance and kept in storage: it never leaves Cloudflare, and the
   * Worker never exposes the container's admin route publicly.
   */
  private async containerAdminKey(): Promise<string> {
    let key = await this.ctx.storage.get<string>(ADMIN_KEY_KEY);
    if (!key) {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      key = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      await this.ctx.storage.put(ADMIN_KEY_KEY, key);
    }
    return key;
  }

  /**
   * RPC from the sync handler: the container refreshed and sends the pair it is about to
   * use. Always stored (see storeCredentials): the container knows which pair is live.
   */
  async syncCredentials(json: string): Promise<StoreOutcome> {
    const parsed = parseCredentials(json);
    if (!parsed.ok) throw new Error(parsed.error);
    return storeCredentials(this.ctx.storage, parsed.credentials, 'sync');
  }

  /** RPC from the admin route: store a pair pushed by the user, then hand it over. */
  async pushCredentials(json: string, force = false): Promise<PushOutcome> {
    const parsed = parseCredentials(json);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const store = await storeCredentials(this.ctx.storage, parsed.credentials, 'push', { force });
    if (!store.stored) return { ok: true, store, container: 'skipped' };
    // Only a running container needs telling; a stopped one reads storage when it starts.
    // Refresh envVars too, in case a request is starting the container right now.
    if (!this.ctx.container?.running) {
      await this.prepareStart();
      return { ok: true, store, container: 'not_running' };
    }
    try {
      const res = await this.ctx.container.getTcpPort(CONTAINER_PORT).fetch('http://container/admin/credentials', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-admin-key': await this.containerAdminKey() },
        body: parsed.credentials.json,
      });
      await res.body?.cancel();
      return { ok: true, store, container: res.ok ? 'delivered' : 'rejected', containerStatus: res.status };
    } catch {
      return { ok: true, store, container: 'unreachable' };
    }
  }

  /**
   * RPC from the edge /health. Asks a running container for its /health directly on the
   * port, which neither starts a container nor counts as activity (a monitor polling
   * /health must not keep it awake). With `wake`, starts it like a request would (unless
   * there is no credential). Without `detail` (a caller without the proxy key) only what
   * the overall status needs: no /health body, no stored-pair metadata, no error text.
   */
  async health({ wake = false, detail = true }: { wake?: boolean; detail?: boolean } = {}): Promise<InstanceHealth> {
    const stored = await loadStored(this.ctx.storage);
    const report: InstanceHealth = {
      running: false,
      state: (await this.getState()).status,
      credential: startCredential(this.env, stored).kind,
    };
    if (stored && detail) {
      report.stored_credentials = {
        source: stored.source,
        expires_at: new Date(stored.expiresAt).toISOString(),
        stored_at: new Date(stored.storedAt).toISOString(),
      };
    }
    try {
      let res: Response;
      if (wake && (await this.prepareStart()).kind !== 'none') {
        res = await this.containerFetch('http://container/health', { method: 'GET' });
      } else if (this.ctx.container?.running) {
        res = await this.ctx.container.getTcpPort(CONTAINER_PORT).fetch('http://container/health');
      } else {
        return report;
      }
      report.running = this.ctx.container?.running ?? false;
      report.state = (await this.getState()).status;
      report.status = res.status;
      if (!detail) {
        await res.body?.cancel();
        return report;
      }
      const text = await res.text();
      try {
        report.health = text.length <= HEALTH_BODY_LIMIT ? JSON.parse(text) : undefined;
      } catch {
        report.error = 'container /health did not answer JSON';
      }
    } catch (err) {
      report.error = detail && err instanceof Error ? err.message : 'container /health failed';
    }
    return report;
  }
}

/** The last key hashed: the key is compared on every request, and changes only on rotation. */
let lastHashed: { text: string; hex: string } | undefined;

async function sha256Hex(text: string): Promise<string> {
  if (lastHashed?.text === text) return lastHashed.hex;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  lastHashed = { text, hex };
  return hex;
}
