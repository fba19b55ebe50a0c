// The request creds:push sends to a deployed Worker's admin route.

/**
 * Build the POST /admin/credentials request. The admin key travels only over https
 * (plain http only to this machine, for local testing).
 */
export function pushRequest(workerUrl, json, adminKey, { force = false } = {}) {
  let url;
  try {
    url = new URL('/admin/credentials', workerUrl);
  } catch {
    throw new Error(`not a URL: ${workerUrl}`);
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new Error('the Worker URL must be https:// (the admin key must not travel in the clear)');
  }
  if (!adminKey) throw new Error('set ADMIN_API_KEY to the admin key the Worker was deployed with');
  if (force) url.searchParams.set('force', '1');
  return new Request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
    body: json,
  });
}

/** One line for the user from the Worker's JSON answer (which never contains secrets). */
export function describeAnswer(status, body) {
  if (body && typeof body.message === 'string') return `${status}: ${body.message}`;
  if (body?.error?.message) return `${status}: ${body.error.message}`;
  return `${status}: unexpected answer`;
}
