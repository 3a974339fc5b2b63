import type { IncomingMessage } from 'node:http';

const STREAM_PATH = '/v1/stream';
const STASH = Symbol('hejie.streamToken');

type WithStash = IncomingMessage & { [STASH]?: string };

/**
 * GET /v1/stream takes the caller's JWT in the query (EventSource cannot send headers). As
 * Fastify's `rewriteUrl` (it runs before routing, hooks, Nest middleware and the request logger)
 * this takes the token out of the URL, keeps it on the raw request for the controller, and
 * leaves `token=[redacted]` in its place, so a token never reaches a log line or an error report.
 */
export function redactStreamToken(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (!url.startsWith(STREAM_PATH)) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const token = params.get('token');
  if (token === null) return url;
  (req as WithStash)[STASH] = token;
  params.set('token', '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** The token `redactStreamToken` took out of this request's URL, if any. */
export function streamTokenOf(req: IncomingMessage): string | undefined {
  return (req as WithStash)[STASH];
}
