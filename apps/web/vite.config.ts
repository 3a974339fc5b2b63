import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The dashboards: `vite build --config apps/web/vite.config.ts` writes dist/web, which the API
 * serves at /app/. `vite --config apps/web/vite.config.ts` serves them with hot reload on
 * :5173 and forwards the API's routes to the API on :3000 (API_URL to change it).
 * Vite 8 transforms TSX itself (Oxc); React's automatic JSX runtime is set here, no plugin.
 */
export default defineConfig({
  root: here,
  base: '/app/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No source maps in the bundle the API serves (docs/SECURITY.md); `vite` (dev) still has them.
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: Object.fromEntries(
      ['/v1', '/health', '/docs'].map((p) => [
        p,
        { target: process.env.API_URL ?? 'http://127.0.0.1:3000', changeOrigin: false },
      ]),
    ),
  },
});
