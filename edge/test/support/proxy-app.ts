// What the C++ proxy in the container answers, as far as the edge relies on it.
export interface ProxyApp {
  (request: Request, startEnv: Record<string, string>): Promise<Response>;
  /** Bodies the proxy's admin route accepted. */
  adminBodies: string[];
  /** Status the proxy's /health answers. */
  healthStatus: number;
  /** Status the proxy's admin route answers to a correct key. */
  adminStatus: number;
  /** The upstream API key each relayed request was sent with. */
  upstreamKeys: (string | undefined)[];
}

export function proxyApp(): ProxyApp {
  // A key pushed to a running proxy lasts until that process ends (a new start's env).
  const pushedKey = new WeakMap<Record<string, string>, string>();
  const app = (async (request: Request, startEnv: Record<string, string>) => {
    const url = new URL(request.url);
    if (url.pathname === '/admin/credentials' && request.method === 'POST') {
      if (request.headers.get('x-admin-key') !== startEnv.PROXY_ADMIN_KEY)
        return Response.json({ type: 'error', error: { type: 'authentication_error', message: 'bad key' } }, { status: 401 });
      if (app.adminStatus !== 200) return new Response('refused', { status: app.adminStatus });
      const body = await request.text();
      app.adminBodies.push(body);
      const apiKey = (JSON.parse(body) as { api_key?: unknown }).api_key;
      if (typeof apiKey === 'string') pushedKey.set(startEnv, apiKey);
      return Response.json({ status: 'ok' });
    }
    if (url.pathname === '/health')
      return Response.json({ status: app.healthStatus === 200 ? 'ok' : 'needs_login', mode: 'oauth' }, { status: app.healthStatus });
    // As the proxy does: with PROXY_API_KEY set, a request must carry exactly that key.
    if (startEnv.PROXY_API_KEY && request.headers.get('x-api-key') !== startEnv.PROXY_API_KEY)
      return Response.json({ type: 'error', error: { type: 'authentication_error', message: 'bad key' } }, { status: 401 });
    app.upstreamKeys.push(pushedKey.get(startEnv) ?? startEnv.ANTHROPIC_API_KEY);
    return Response.json({ relayed: url.pathname });
  }) as ProxyApp;
  app.adminBodies = [];
  app.healthStatus = 200;
  app.adminStatus = 200;
  app.upstreamKeys = [];
  return app;
}
