// What the C++ proxy in the container answers, as far as the edge relies on it.
export interface ProxyApp {
  (request: Request, startEnv: Record<string, string>): Promise<Response>;
  /** Bodies the proxy's admin route accepted. */
  adminBodies: string[];
  /** Status the proxy's /health answers. */
  healthStatus: number;
  /** Status the proxy's admin route answers to a correct key. */
  adminStatus: number;
}

export function proxyApp(): ProxyApp {
  const app = (async (request: Request, startEnv: Record<string, string>) => {
    const url = new URL(request.url);
    if (url.pathname === '/admin/credentials' && request.method === 'POST') {
      if (request.headers.get('x-admin-key') !== startEnv.PROXY_ADMIN_KEY)
        return Response.json({ type: 'error', error: { type: 'authentication_error', message: 'bad key' } }, { status: 401 });
      if (app.adminStatus !== 200) return new Response('refused', { status: app.adminStatus });
      app.adminBodies.push(await request.text());
      return Response.json({ status: 'ok' });
    }
    if (url.pathname === '/health')
      return Response.json({ status: app.healthStatus === 200 ? 'ok' : 'needs_login', mode: 'oauth' }, { status: app.healthStatus });
    return Response.json({ relayed: url.pathname });
  }) as ProxyApp;
  app.adminBodies = [];
  app.healthStatus = 200;
  app.adminStatus = 200;
  return app;
}
