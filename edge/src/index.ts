// Worker entry point (wrangler.toml `main`).
import type { Env } from './env';
import { handleRequest } from './worker';

export { ProxyContainer } from './container';
// Outbound interception (the credential sync) runs through this entrypoint.
export { ContainerProxy } from '@cloudflare/containers';

export default {
  fetch: (request, env) => handleRequest(request, env),
} satisfies ExportedHandler<Env>;
