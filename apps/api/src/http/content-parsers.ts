import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: signatures are computed over these bytes. */
    rawBody?: string;
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
    { parseAs: 'string', bodyLimit: batchBodyLimit },
    (req: FastifyRequest, body: string | Buffer, done) => {
      req.rawBody = body.toString();
      done(null, undefined);
    },
  );
}
