import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problemOf } from '../http/problem';

export const WEB_PREFIX = '/app';

/** Where the built dashboards are: WEB_DIST_DIR, else `dist/web` under the working directory. */
export function webDistDir(env: Record<string, string | undefined> = process.env): string {
  return resolve(env.WEB_DIST_DIR || resolve(process.cwd(), 'dist/web'));
}

const HTML_HEADERS: Record<string, string> = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
};

/**
 * The dashboards (apps/web, built by Vite into dist/web) at /app/, with a fallback to
 * index.html for the client's routes (/app/tickets/…), and `/` redirecting there. The API's
 * own routes are untouched. Without a build the API starts all the same and logs how to make
 * one.
 */
export async function registerWebApp(fastify: FastifyInstance, root = webDistDir()) {
  const logger = new Logger('WebApp');
  if (!existsSync(resolve(root, 'index.html'))) {
    logger.warn(
      `no dashboards build in ${root}: run \`npm run build:web\` to serve them at ${WEB_PREFIX}/`,
    );
    return false;
  }
  // Returns nothing, not the reply sendFile returns: Fastify awaits a reply handed back unsent
  // through reply.then(), which watches the response with finished(), two more 'close'
  // listeners on it. The client-route fallback (below) already passes through two such awaits
  // in @fastify/static; a third took it to 11 and Node's MaxListenersExceededWarning.
  const sendIndex = (reply: FastifyReply): void => {
    void reply.headers(HTML_HEADERS).sendFile('index.html');
  };

  fastify.get('/', (_req, reply) => reply.redirect(`${WEB_PREFIX}/`));
  await fastify.register(
    async (scope) => {
      // Source maps are not built for production (vite.config.ts); one left in an older
      // dist/web is not served either.
      scope.addHook('onRequest', async (req, reply) => {
        if (/\.map$/i.test(req.url.split('?')[0])) {
          return reply
            .status(404)
            .header('content-type', 'application/problem+json')
            .send(JSON.stringify(problemOf('NOT_FOUND', 'no such file')));
        }
      });
      await scope.register(fastifyStatic, {
        root,
        prefix: '/',
        wildcard: true,
        index: false,
        cacheControl: false,
        // dist/web holds .br and .gz copies made at build time (apps/web/vite.config.ts).
        preCompressed: true,
        setHeaders: (reply, path) => {
          // Vite names assets by content hash: they never change under one name.
          if (/[/\\]assets[/\\]/.test(path))
            void reply.header('cache-control', 'public, max-age=31536000, immutable');
          else void reply.headers(HTML_HEADERS);
        },
      });
      // /app and /app/ are the app itself (prefixTrailingSlash 'both' registers both).
      scope.get('/', (_req, reply) => sendIndex(reply));
      // Client routes (no file extension, a browser asking for HTML) get the app; anything
      // else that is missing stays a 404.
      scope.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
        const path = req.url.split('?')[0];
        const wantsHtml = String(req.headers.accept ?? '').includes('text/html');
        const isAsset = /\.[a-z0-9]+$/i.test(path) || path.startsWith(`${WEB_PREFIX}/assets/`);
        if ((req.method === 'GET' || req.method === 'HEAD') && wantsHtml && !isAsset) {
          return sendIndex(reply);
        }
        return reply
          .status(404)
          .header('content-type', 'application/problem+json')
          .send(JSON.stringify(problemOf('NOT_FOUND', `no such file: ${path}`)));
      });
    },
    { prefix: WEB_PREFIX },
  );
  return true;
}
