import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Plain Node tests: the Workers runtime module is replaced by a small stub, and
// @cloudflare/containers is transformed by Vite so that stub (or a test's vi.mock) applies.
export default defineConfig({
  resolve: {
    alias: {
      'cloudflare:workers': fileURLToPath(new URL('./test/stubs/cloudflare-workers.ts', import.meta.url)),
    },
  },
  plugins: [
    {
      // The package's source maps point at files it does not ship; drop the references
      // rather than print a warning per file on every run.
      name: 'containers-without-sourcemaps',
      load(id) {
        if (!/[\\/]@cloudflare[\\/]containers[\\/]dist[\\/].*\.js$/.test(id)) return null;
        return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.mjs'],
    environment: 'node',
    server: { deps: { inline: ['@cloudflare/containers'] } },
  },
});
