// Test doubles with no runtime dependencies.

/** Durable Object storage over a Map; a test may hold or fail writes. */
export class MemoryStorage {
  data = new Map<string, unknown>();
  puts: string[] = [];
  /** When set, each put waits for this before it completes. */
  gate?: Promise<void>;
  failPuts = false;

  async get<T>(key: string): Promise<T | undefined> {
    return structuredClone(this.data.get(key)) as T | undefined;
  }
  async put<T>(key: string, value: T): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failPuts) throw new Error('storage unavailable');
    this.data.set(key, structuredClone(value));
    this.puts.push(key);
  }
}

/** A Claude Code credentials document. */
export function creds(expiresAt: number, tag = 'a', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    claudeAiOauth: {
      accessToken: `sk-ant-oat01-${tag}`,
      refreshToken: `sk-ant-ort01-${tag}`,
      expiresAt,
      scopes: ['user:inference'],
      subscriptionType: 'max',
    },
    ...extra,
  });
}
