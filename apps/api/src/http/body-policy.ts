/*
 * Which bodies each route takes, and how large, decided from the request line and headers
 * alone: a body of a type the route does not take, or a declared length over its limit, is
 * refused (415 / 413) before a byte of it is read, and the signed generic routes refuse a
 * missing or malformed signature (401) and a busy batch importer (429) at the same point.
 * A route not listed here takes JSON up to BODY_LIMIT_BYTES (1 MB).
 * (Adding a route with another body type, e.g. multipart uploads: add it to `routes` below.)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '@app/shared';
import type { HejieConfig, IntegratorKey } from '@app/shared';
import { integratorFor } from '@app/receipts';

export type BodyKind = 'json' | 'form' | 'ndjson' | 'multipart';

/** Media types (without parameters) of each kind. */
export const MEDIA_TYPES: Record<BodyKind, readonly string[]> = {
  json: ['application/json'],
  form: ['application/x-www-form-urlencoded'],
  ndjson: ['application/x-ndjson', 'application/jsonl', 'application/jsonlines'],
  multipart: ['multipart/form-data'],
};

export interface BodyPolicy {
  kind: BodyKind;
  limit: number;
  /** Generic integrator routes: X-Hejie-Key-Id + X-Hejie-Signature checked before the body. */
  signed: boolean;
  /** At most `batchMaxConcurrent` of these bodies are read at once (per API process). */
  capped: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The integrator key a signed generic request named (set before its body is read). */
    integratorKey?: IntegratorKey;
  }
}

export class BodyPolicies {
  private readonly routes: Map<string, BodyPolicy>;
  readonly fallback: BodyPolicy;
  private batchesInFlight = 0;

  constructor(private readonly config: HejieConfig) {
    const json = (signed = false): BodyPolicy => ({
      kind: 'json',
      limit: config.bodyLimitBytes,
      signed,
      capped: false,
    });
    this.fallback = json();
    // Receipt and refund batches: one policy, and one count against batchMaxConcurrent.
    const batch: BodyPolicy = {
      kind: 'ndjson',
      limit: config.batchBodyLimitBytes,
      signed: true,
      capped: true,
    };
    this.routes = new Map<string, BodyPolicy>([
      ['POST /v1/receipts', json(true)],
      ['POST /v1/refunds', json(true)],
      ['POST /v1/receipts/batch', batch],
      ['POST /v1/refunds/batch', batch],
      ['POST /v1/receipts/alipay', { ...json(), kind: 'form' }],
      ['POST /v1/receipts/wechatpay', json()],
      // Evidence (http/multipart.ts streams the parts): one file of ATTACHMENT_MAX_BYTES, a
      // note and the multipart framing.
      [
        'POST /v1/complaints/:id/attachments',
        {
          kind: 'multipart',
          limit: config.attachmentMaxBytes + 64 * 1024,
          signed: false,
          capped: false,
        },
      ],
    ]);
  }

  of(method: string, url: string | undefined): BodyPolicy {
    return (url !== undefined && this.routes.get(`${method} ${url}`)) || this.fallback;
  }

  /** Hooks: per-route body limits (onRoute) and the before-the-body checks (onRequest). */
  register(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const limits = methods.map((m) => this.of(m, route.url).limit);
      route.bodyLimit = Math.max(...limits);
    });
    app.addHook('onRequest', async (req, reply) => this.check(req, reply));
  }

  /** Runs before the body is read; throws the problem to answer with. */
  check(req: FastifyRequest, reply: FastifyReply): void {
    const policy = this.of(req.method, req.routeOptions?.url);
    // Nothing of a refused body is read: the connection is closed after the answer instead.
    const refuse = (e: DomainError): never => {
      if (hasBody(req)) void reply.header('connection', 'close');
      throw e;
    };
    try {
      if (policy.signed) {
        req.integratorKey = integratorFor(
          this.config.receiptHmacKeys,
          req.headers['x-hejie-key-id'],
          req.headers['x-hejie-signature'],
        );
      }
      if (hasBody(req)) {
        const mime = mediaTypeOf(req);
        if (!takes(policy.kind, mime)) {
          throw new DomainError(
            'UNSUPPORTED_MEDIA_TYPE',
            `this route takes ${MEDIA_TYPES[policy.kind][0]}, not "${mime || 'nothing'}"`,
          );
        }
        const declared = Number(req.headers['content-length']);
        if (declared > policy.limit) {
          throw new DomainError(
            'PAYLOAD_TOO_LARGE',
            `request body exceeds the size limit of ${policy.limit} bytes`,
          );
        }
      }
      if (policy.capped) this.admitBatch(req, reply);
    } catch (e) {
      if (e instanceof DomainError) refuse(e);
      throw e;
    }
  }

  /** One more batch upload, or 429 RATE_LIMITED when batchMaxConcurrent are being read. */
  private admitBatch(req: FastifyRequest, reply: FastifyReply): void {
    if (this.batchesInFlight >= this.config.batchMaxConcurrent) {
      void reply.header('retry-after', '5');
      throw new DomainError(
        'RATE_LIMITED',
        `at most ${this.config.batchMaxConcurrent} batch imports at a time; retry later`,
      );
    }
    this.batchesInFlight++;
    // 'close' fires once the answer is sent or the connection is lost, whatever happened.
    reply.raw.once('close', () => {
      this.batchesInFlight--;
    });
  }
}

/** Whether a body kind takes a media type (JSON: also `application/<anything>+json`). */
export function takes(kind: BodyKind, mime: string): boolean {
  return MEDIA_TYPES[kind].includes(mime) || (kind === 'json' && JSON_SUFFIX.test(mime));
}

const JSON_SUFFIX = /^application\/[\w.+-]+\+json$/;

/** The media type without parameters, lower case ('' when there is none). */
export function mediaTypeOf(req: FastifyRequest): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

/** Whether the request says a body follows (a declared non-zero length, or chunked). */
export function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
