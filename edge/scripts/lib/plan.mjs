// What `npm run deploy` uploads or deletes, decided from what it found, without touching
// the network: the local credential, the Worker's existing secret names (from `wrangler
// secret list`), the command-line flags and the environment. Pure, so tests need nothing.

export const USAGE =
  'usage: npm run deploy [-- --credentials] [-- --delete-api-key]\n' +
  '  --credentials     upload the local OAuth pair even though CLAUDE_OAUTH_CREDS is already set\n' +
  '  --delete-api-key  switching from an API key to OAuth: delete the ANTHROPIC_API_KEY secret first';

/** The deploy script's flags; throws with the usage text on anything else. */
export function parseDeployArgs(args) {
  const flags = { credentials: false, deleteApiKey: false };
  for (const arg of args) {
    if (arg === '--credentials') flags.credentials = true;
    else if (arg === '--delete-api-key') flags.deleteApiKey = true;
    else throw new Error(`unknown argument: ${arg}\n${USAGE}`);
  }
  return flags;
}

/**
 * The plan: { ok: true, deletes: [name], uploads: [[name, value]], notes: [line] }, or
 * { ok: false, error } when deploying as asked would not do what the user expects.
 *
 * - API key: ANTHROPIC_API_KEY is uploaded (the proxy's first choice; a stored OAuth
 *   secret stays but is not used).
 * - OAuth with an ANTHROPIC_API_KEY secret on the Worker: the key would keep winning and
 *   the switch would silently do nothing, so stop, unless --delete-api-key.
 * - OAuth: CLAUDE_OAUTH_CREDS is uploaded only when the Worker has no such secret, when
 *   switching from an API key, or with --credentials. A deployed OAuth Worker keeps the
 *   pair its container rotated in Durable Object storage; re-uploading the local pair on
 *   every deploy would put a second live copy of the refresh token in play (and a local
 *   pair that expires later would replace the container's at its next start).
 * - PROXY_API_KEY and ADMIN_API_KEY: uploaded when set in the environment.
 *
 * @param {{
 *   credential: { kind: 'api_key', value: string } | { kind: 'oauth', json: string },
 *   existing: Set<string>,
 *   flags?: { credentials?: boolean, deleteApiKey?: boolean },
 *   env?: Record<string, string | undefined>,
 * }} input
 * @returns {{ ok: true, deletes: string[], uploads: [string, string][], notes: string[] } | { ok: false, error: string }}
 */
export function planSecrets({ credential, existing, flags = {}, env = {} }) {
  /** @type {string[]} */
  const deletes = [];
  /** @type {[string, string][]} */
  const uploads = [];
  /** @type {string[]} */
  const notes = [];
  if (credential.kind === 'api_key') {
    if (flags.deleteApiKey) {
      return {
        ok: false,
        error:
          '--delete-api-key switches the Worker to OAuth credentials, but ANTHROPIC_API_KEY is set in your\n' +
          '  environment, so this deploy would upload it again. Unset it (`unset ANTHROPIC_API_KEY`) and run again.',
      };
    }
    uploads.push(['ANTHROPIC_API_KEY', credential.value]);
    if (existing.has('CLAUDE_OAUTH_CREDS'))
      notes.push('The Worker also has a CLAUDE_OAUTH_CREDS secret: the API key wins, the OAuth pair is not used.');
  } else {
    let switching = false;
    if (existing.has('ANTHROPIC_API_KEY')) {
      if (!flags.deleteApiKey) {
        return {
          ok: false,
          error:
            'The Worker has an ANTHROPIC_API_KEY secret, and an API key always wins over OAuth credentials:\n' +
            '  deploying your OAuth pair now would change nothing. To switch to OAuth, delete the key first:\n' +
            '    cd edge && npx wrangler secret delete ANTHROPIC_API_KEY --config ../wrangler.toml\n' +
            '  or run `npm run deploy -- --delete-api-key`, which does that and then deploys.\n' +
            '  (To keep using the API key, set ANTHROPIC_API_KEY in your environment and deploy again.)',
        };
      }
      deletes.push('ANTHROPIC_API_KEY');
      switching = true;
      notes.push('Deleting the ANTHROPIC_API_KEY secret (--delete-api-key): the Worker switches to OAuth credentials.');
    } else if (flags.deleteApiKey) {
      notes.push('--delete-api-key: the Worker has no ANTHROPIC_API_KEY secret; nothing to delete.');
    }
    if (!existing.has('CLAUDE_OAUTH_CREDS')) {
      uploads.push(['CLAUDE_OAUTH_CREDS', credential.json]);
      notes.push('Uploading the local OAuth pair: the Worker has no CLAUDE_OAUTH_CREDS secret yet.');
    } else if (flags.credentials) {
      uploads.push(['CLAUDE_OAUTH_CREDS', credential.json]);
      notes.push('Uploading the local OAuth pair (--credentials): it replaces the CLAUDE_OAUTH_CREDS secret.');
    } else if (switching) {
      uploads.push(['CLAUDE_OAUTH_CREDS', credential.json]);
      notes.push('Uploading the local OAuth pair: switching from an API key, the old CLAUDE_OAUTH_CREDS secret is replaced.');
    } else {
      notes.push(
        'Not uploading the local OAuth pair: the Worker already has a CLAUDE_OAUTH_CREDS secret, and the\n' +
          '  running deployment keeps the pair its container last refreshed in Durable Object storage.\n' +
          '  To hand it a fresh pair: `npm run creds:push -- <worker URL>` (no redeploy), or\n' +
          '  `npm run deploy -- --credentials` to replace the secret.',
      );
    }
  }
  for (const name of ['PROXY_API_KEY', 'ADMIN_API_KEY']) {
    const value = env[name];
    if (value) uploads.push([name, value]);
  }
  if (!env.PROXY_API_KEY) {
    notes.push(
      existing.has('PROXY_API_KEY')
        ? 'PROXY_API_KEY is not set here: the secret stored by an earlier deploy stays.'
        : 'PROXY_API_KEY is not set here and the Worker has none: anyone who finds the Worker URL can use\n' +
            '  your credential. Set PROXY_API_KEY and deploy again.',
    );
  }
  return { ok: true, deletes, uploads, notes };
}
