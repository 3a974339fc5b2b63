import type { IncomingMessage } from 'node:http';
import type { Options } from 'pino-http';
import type { HejieConfig } from '@app/shared';

/**
 * What the request logger never writes: bearer tokens, provider signatures, cookies (the Bull
 * Board session) and the session it sets. Credentials in URLs (stream tickets, old `?token=`
 * links) are taken out before anything logs the URL (stream/redact-token.ts).
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hejie-signature"]',
  'res.headers["set-cookie"]',
];

export function requestLoggerOptions(
  config: Pick<HejieConfig, 'logLevel'>,
  requestId: (req: IncomingMessage) => string,
): Options {
  return {
    level: config.logLevel,
    // Fastify assigns the id (see app.factory); pino-http reuses it so every line carries it.
    genReqId: (req) => req.id ?? requestId(req),
    customAttributeKeys: { reqId: 'requestId' },
    redact: REDACTED_LOG_PATHS,
    autoLogging: {
      ignore: (req: IncomingMessage) =>
        req.url === '/metrics' || req.url?.startsWith('/health') === true,
    },
  };
}
