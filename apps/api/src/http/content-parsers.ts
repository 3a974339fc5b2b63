import type { IncomingMessage } from 'node:http';
import { errorCodes } from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError, assertCleanValue, decodeUtf8Strict, parseJsonStrict } from '@app/shared';
import { BodyPolicies, MEDIA_TYPES } from './body-policy';
import type { BodyKind } from './body-policy';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as text (strict UTF-8): provider signatures are computed over it. */
    rawBody?: string;
    /** Signed generic bodies and NDJSON batches: the bytes received, not decoded here. */
    rawBodyBytes?: Buffer;
  }
}

/** The code of a body our parsers refuse; mapped to 400 VALIDATION_FAILED (see problem.ts). */
export const MALFORMED_BODY_CODE = 'HEJIE_MALFORMED_BODY';

function malformed(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: MALFORMED_BODY_CODE });
}

/**
 * Form decoding: WHATWG URLSearchParams (Node's own, maintained parser) after one strictness
 * check that it does not make: a broken %-escape or %-encoded bytes that are not UTF-8 are a
 * malformed body (URLSearchParams would silently keep "%ZZ" or write U+FFFD). Later keys win.
 */
export function parseForm(raw: string): Record<string, string> {
  try {
    decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw malformed('form body has an invalid %-escape');
  }
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
  return out;
}

/** Parses with `parse`; whatever it throws is answered as a 400 (never a 500). */
function parsed<T>(parse: () => T, done: (err: Error | null, body?: unknown) => void): void {
  let value: T;
  try {
    value = parse();
  } catch (e) {
    // A DomainError keeps its field errors; the problem filter maps it (400 VALIDATION_FAILED).
    if (e instanceof DomainError)
      return done(Object.assign(e, { statusCode: e.status }), undefined);
    return done(
      (e as { code?: string }).code === MALFORMED_BODY_CODE
        ? (e as Error)
        : malformed((e as Error).message || 'malformed body'),
      undefined,
    );
  }
  done(null, value);
}

/**
 * JSON, form and NDJSON parsers. Which route takes which, and how large, is BodyPolicies'
 * decision, made before the body is read (body-policy.ts); these parsers check it again.
 * Every parsed body goes through the same clean-text check (parseJsonStrict / assertCleanValue:
 * no `__proto__` / `constructor` / `prototype` keys, no U+0000, no unpaired surrogates).
 * Signed generic bodies (POST /v1/receipts) are kept as bytes, not decoded: their HMAC is
 * checked over those bytes first (ReceiptIntakeService), then they are parsed the same way.
 */
export function registerContentParsers(app: FastifyInstance, policies: BodyPolicies): void {
  app.removeAllContentTypeParsers();
  const wrongRoute = (req: FastifyRequest, kind: BodyKind): Error | null =>
    policies.of(req.method, req.routeOptions?.url).kind === kind
      ? null
      : Object.assign(new Error(`this route does not take ${MEDIA_TYPES[kind][0]}`), {
          statusCode: 415,
          code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        });

  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json$/,
    { parseAs: 'buffer', bodyLimit: policies.fallback.limit },
    (req: FastifyRequest, body: string | Buffer, done) => {
      const refused = wrongRoute(req, 'json');
      if (refused) return done(refused, undefined);
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
      if (req.integratorKey) {
        req.rawBodyBytes = bytes;
        return done(null, undefined);
      }
      parsed(() => {
        const raw = decodeUtf8Strict(bytes);
        req.rawBody = raw;
        return raw.trim() === '' ? undefined : parseJsonStrict(raw);
      }, done);
    },
  );
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: policies.fallback.limit },
    (req: FastifyRequest, body: string | Buffer, done) => {
      const refused = wrongRoute(req, 'form');
      if (refused) return done(refused, undefined);
      parsed(() => {
        const raw = decodeUtf8Strict(Buffer.isBuffer(body) ? body : Buffer.from(body));
        req.rawBody = raw;
        const form = parseForm(raw);
        assertCleanValue(form);
        return form;
      }, done);
    },
  );
  app.addContentTypeParser(
    MEDIA_TYPES.ndjson as string[],
    (req: FastifyRequest, payload: IncomingMessage, done) => {
      const refused = wrongRoute(req, 'ndjson');
      if (refused) return done(refused, undefined);
      const limit = policies.of(req.method, req.routeOptions?.url).limit;
      readBodyBytes(req, payload, limit, (err, bytes) => {
        if (err) return done(err, undefined);
        req.rawBodyBytes = bytes;
        done(null, undefined);
      });
    },
  );
}

/**
 * Reads a body into ONE Buffer, sized from Content-Length when the client sent it, instead of
 * Fastify's chunk list + concat (+ a decoded string for parseAs 'string'): a 64 MB batch costs
 * 64 MB, not two or three times that. Same limits and errors as Fastify's own reader.
 */
export function readBodyBytes(
  req: FastifyRequest,
  payload: IncomingMessage,
  limit: number,
  done: (err: Error | null, body?: Buffer) => void,
): void {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    payload.resume();
    return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  }
  const sized = Number.isSafeInteger(declared) && declared >= 0;
  const whole = sized ? Buffer.allocUnsafeSlow(declared) : null;
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
    done(err, body);
  };
  const onData = (chunk: Buffer | string) => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (received + b.length > limit) return finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    if (whole) {
      if (received + b.length > whole.length) {
        return finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      }
      b.copy(whole, received);
    } else chunks.push(b);
    received += b.length;
  };
  const onEnd = (err?: Error & { statusCode?: number }) => {
    if (err) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      return finish(err);
    }
    if (whole && received !== whole.length) {
      return finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    }
    finish(null, whole ?? Buffer.concat(chunks, received));
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
