import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * One Content-Security-Policy for everything this process serves: the API, the dashboards
 * (/app/), Swagger UI (/docs) and Bull Board (/admin/queues). All three UIs load their
 * scripts from files on this origin; Swagger UI and Bull Board put inline `<style>` blocks and
 * attributes in their pages, hence `style-src 'unsafe-inline'` (no inline script is allowed).
 * Bull Board's Google Fonts stylesheet is blocked on purpose (it falls back to system fonts).
 * No `upgrade-insecure-requests`: the demo runs on plain http on 127.0.0.1.
 */
export const CSP_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * Security headers on every response (@fastify/helmet, registered on the root instance before
 * any route so every scope inherits its hook): CSP, X-Frame-Options DENY, nosniff,
 * Referrer-Policy no-referrer, and the cross-origin isolation headers. HSTS only on requests
 * that came over https, directly or through a TRUST_PROXY proxy's X-Forwarded-Proto: sent
 * over plain http it would be ignored at best, and would lock a browser out of an http-only
 * demo at worst.
 */
export async function registerSecurityHeaders(fastify: FastifyInstance): Promise<void> {
  await fastify.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: false,
  });
  fastify.addHook('onRequest', async (req, reply) => {
    if (req.protocol === 'https') void reply.header('strict-transport-security', HSTS);
  });
}
