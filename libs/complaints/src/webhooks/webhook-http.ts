import type { LookupAddress, LookupOneOptions } from 'node:dns';
import type { Readable } from 'node:stream';
import ipaddr from 'ipaddr.js';
import type { Agent } from 'undici';
import { forbiddenRange, urlHost } from '@app/directory';
import type { WebhookResolver } from '@app/directory';

/** Read of a receiver's answer, at most; the rest is never read (nor decompressed). */
export const WEBHOOK_ANSWER_LIMIT = 1024;
/** Largest response header block accepted from a receiver. */
const MAX_HEADER_BYTES = 8 * 1024;
/** Connections open at once to one receiver (origin), per worker process. */
const CONNECTIONS_PER_ORIGIN = 8;

/** Thrown by the pinned lookup: the host resolved to an address webhooks may not reach. */
export class ForbiddenAddressError extends Error {
  readonly code = 'HEJIE_FORBIDDEN_ADDRESS';
  constructor(
    readonly address: string,
    readonly range: string,
  ) {
    super(`address ${address} (${range}) is not allowed for webhooks`);
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls.connect that resolves the name once, refuses the connection unless
 * every address is public, and hands exactly those addresses to the socket: the address checked
 * is the address dialled, so a DNS answer that changes between the check and the connection (DNS
 * rebinding) cannot lead the request inside.
 */
export function pinnedLookup(resolve: WebhookResolver, allowPrivate: boolean) {
  return (hostname: string, options: LookupOneOptions & { all?: boolean }, cb: LookupCallback) => {
    resolve(hostname).then(
      (found) => {
        const family = options?.family === 4 || options?.family === 6 ? options.family : 0;
        const addresses = found.filter((a) => !family || a.family === family);
        if (!addresses.length) {
          const e: NodeJS.ErrnoException = new Error(`${hostname} does not resolve`);
          e.code = 'ENOTFOUND';
          return cb(e, '');
        }
        if (!allowPrivate) {
          for (const a of addresses) {
            const range = forbiddenRange(a.address);
            if (range) return cb(new ForbiddenAddressError(a.address, range), '');
          }
        }
        if (options?.all) return cb(null, addresses);
        cb(null, addresses[0].address, addresses[0].family);
      },
      (e: NodeJS.ErrnoException) => cb(e, ''),
    );
  };
}

export interface WebhookHttpOptions {
  resolve: WebhookResolver;
  allowPrivate: boolean;
  /** The whole attempt: connection, request, answer headers and the (bounded) body read. */
  timeoutMs: number;
}

/**
 * The HTTP client of merchant webhooks: undici with the pinned lookup, its own timeouts and
 * connection cap, no redirects, no decompression (`request` never inflates; we ask for
 * `identity` anyway) and at most WEBHOOK_ANSWER_LIMIT bytes of any answer read.
 */
export class WebhookHttp {
  private client?: Promise<{ agent: Agent; request: typeof import('undici').request }>;

  constructor(private readonly opts: WebhookHttpOptions) {}

  /** undici is loaded on the first delivery, not at boot (it adds ~0.5 s to every process start). */
  private load() {
    this.client ??= import('undici').then(({ Agent, request }) => ({
      request,
      agent: this.createAgent(Agent),
    }));
    return this.client;
  }

  private createAgent(AgentClass: typeof Agent): Agent {
    const opts = this.opts;
    return new AgentClass({
      connect: {
        lookup: pinnedLookup(opts.resolve, opts.allowPrivate) as never,
        timeout: opts.timeoutMs,
      },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      maxHeaderSize: MAX_HEADER_BYTES,
      connections: CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: 4_000,
      pipelining: 1,
    });
  }

  /**
   * One POST; null when the receiver answered 2xx, else a generic reason for the merchant
   * ("HTTP 500", "timeout", "connection refused", …): never any of the receiver's bytes, which
   * could be an internal service's answer.
   */
  async post(
    rawUrl: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<string | null> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return 'invalid URL';
    }
    if (url.protocol !== 'https:' && !(this.opts.allowPrivate && url.protocol === 'http:')) {
      return 'URL not allowed (https only)';
    }
    const host = urlHost(url);
    // An IP literal is dialled without a lookup: check it here.
    if (!this.opts.allowPrivate && ipaddr.isValid(host) && forbiddenRange(host)) {
      return 'address not allowed';
    }
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      const { agent, request } = await this.load();
      const res = await request(url, {
        method: 'POST',
        headers: { ...headers, 'accept-encoding': 'identity' },
        body,
        dispatcher: agent,
        signal,
      });
      await readAtMost(res.body, WEBHOOK_ANSWER_LIMIT);
      return res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`;
    } catch (e) {
      return failureReason(e, signal);
    }
  }

  async close(): Promise<void> {
    if (!this.client) return;
    const { agent } = await this.client;
    await agent.destroy().catch(() => undefined);
  }
}

/** Reads at most `limit` bytes, then destroys the stream (the rest is never read). */
export async function readAtMost(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      chunks.push(b.subarray(0, limit - n));
      n += b.length;
      if (n >= limit) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks);
}

function failureReason(e: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timeout';
  const err = e as { code?: string; name?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code ?? '';
  if (e instanceof ForbiddenAddressError || code === 'HEJIE_FORBIDDEN_ADDRESS')
    return 'address not allowed';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ENODATA':
      return 'DNS lookup failed';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'invalid response (headers too large)';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'invalid response';
  }
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code))
    return 'TLS error';
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return 'timeout';
  return 'request failed';
}
