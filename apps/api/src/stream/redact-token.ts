import type { IncomingMessage } from 'node:http';

const STASH = Symbol('hejie.urlSecrets');

type WithStash = IncomingMessage & { [STASH]?: Record<string, string> };

/** Query parameters that carry a credential, by path prefix. */
const SECRET_PARAMS: readonly { prefix: string; names: readonly string[] }[] = [
  // The stream ticket (single use, but still a credential for 60 s); `token` from old clients.
  { prefix: '/v1/stream', names: ['ticket', 'token'] },
  // Old Bull Board links (`?token=<admin JWT>`): never honoured now, never logged either.
  { prefix: '/admin/queues', names: ['token'] },
];

/**
 * Fastify's `rewriteUrl` (it runs before routing, hooks, Nest middleware and the request
 * logger): takes credentials out of the URL, keeps them on the raw request for the route, and
 * leaves `[redacted]` in their place, so a ticket or token never reaches a log line or an
 * error report.
 */
export function redactStreamToken(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const rule = SECRET_PARAMS.find((r) => url.startsWith(r.prefix));
  if (!rule) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of rule.names) {
    const value = params.get(name);
    if (value === null) continue;
    ((req as WithStash)[STASH] ??= {})[name] = value;
    params.set(name, '[redacted]');
    changed = true;
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

/** The stream ticket `redactStreamToken` took out of this request's URL, if any. */
export function streamTicketOf(req: IncomingMessage): string | undefined {
  return (req as WithStash)[STASH]?.ticket;
}

/** The `token` `redactStreamToken` took out of this request's URL, if any. */
export function streamTokenOf(req: IncomingMessage): string | undefined {
  return (req as WithStash)[STASH]?.token;
}
