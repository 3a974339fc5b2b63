import type { IncomingMessage } from 'node:http';
import { errorCodes } from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: signatures are computed over these bytes. */
    rawBody?: string;
    /** NDJSON batches: the body's bytes, never decoded as a whole (see readBodyBytes). */
    rawBodyBytes?: Buffer;
  }
}

/** The code of a body our parsers refuse; mapped to 400 VALIDATION_FAILED (see problem.ts). */
export const MALFORMED_BODY_CODE = 'HEJIE_MALFORMED_BODY';

function malformed(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: MALFORMED_BODY_CODE });
}

/** Strict form decoding: a broken %-escape is a malformed body, not a silent replacement. */
export function parseForm(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    const v = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      out[decodeURIComponent(k.replace(/\+/g, ' '))] = decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      throw malformed('form body has an invalid %-escape');
    }
  }
  return out;
}

/**
 * JSON, form and NDJSON parsers that keep the raw body for signature checks. Ordinary bodies
 * are capped at `bodyLimit` (1 MB by contract); NDJSON batches at `batchBodyLimit`.
 */
export function registerContentParsers(
  app: FastifyInstance,
  bodyLimit: number,
  batchBodyLimit: number,
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json$/,
    { parseAs: 'string', bodyLimit },
    (req: FastifyRequest, body: string | Buffer, done) => {
      const raw = body.toString();
      req.rawBody = raw;
      if (raw.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(raw));
      } catch {
        done(malformed('body is not valid JSON'), undefined);
      }
    },
  );
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit },
    (req: FastifyRequest, body: string | Buffer, done) => {
      const raw = body.toString();
      req.rawBody = raw;
      try {
        done(null, parseForm(raw));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
  app.addContentTypeParser(
    ['application/x-ndjson', 'application/jsonl', 'application/jsonlines'],
    { bodyLimit: batchBodyLimit },
    (req: FastifyRequest, payload: IncomingMessage, done) => {
      readBodyBytes(req, payload, batchBodyLimit, (err, bytes) => {
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
