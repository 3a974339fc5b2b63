import type { IntegratorKey } from '@app/shared/config/integrator-keys';
import { decodeUtf8Strict, parseJsonStrict } from '@app/shared/safe-input';
import { verifyHmacSignature } from './hmac.verifier';
import { integratorFor } from './integrator-auth';

export interface SignedJson {
  key: IntegratorKey;
  /** The body as text (strict UTF-8): the evidence to store. */
  text: string;
  value: unknown;
}

/**
 * A generic integrator JSON body (POST /v1/receipts, POST /v1/refunds), in the one safe order:
 * the key the request names, the HMAC over the bytes as received, and only then strict UTF-8
 * and strict JSON. The caller validates the shape and calls assertProviderAllowed.
 */
export function verifySignedJson(
  keys: ReadonlyMap<string, IntegratorKey>,
  rawBody: string | Buffer,
  signature: string | undefined,
  keyId: string | undefined,
): SignedJson {
  const key = integratorFor(keys, keyId, signature);
  verifyHmacSignature(rawBody, signature, key.secret);
  const text = Buffer.isBuffer(rawBody) ? decodeUtf8Strict(rawBody) : rawBody;
  return { key, text, value: parseJsonStrict(text) };
}
