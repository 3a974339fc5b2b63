import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

const outDir = fileURLToPath(new URL('../../dist/web', import.meta.url));

/**
 * Brotli and gzip copies of every text asset next to it, made once at build time, so the API
 * (@fastify/static `preCompressed`) sends a phone 40 KB instead of 150 KB without compressing on
 * each request.
 */
function precompress(): Plugin {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return {
    name: 'hejie-precompress',
    apply: 'build',
    closeBundle() {
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json)$/.test(file)) continue;
        const body = readFileSync(file);
        if (body.length < 1024) continue;
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
      }
    },
  };
}

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
  plugins: [precompress()],
  build: {
    outDir,
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
