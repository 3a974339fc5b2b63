/**
 * Integrator keys for the generic signed routes (POST /v1/receipts, /v1/receipts/batch and
 * /v1/refunds). `RECEIPT_HMAC_KEYS` = `keyId:secret:provider1|provider2,…`; the request names its
 * key in `X-Hejie-Key-Id` (absent → `default`, which is RECEIPT_HMAC_SECRET and may use any
 * provider that is not reserved). Parsed and validated once, at boot.
 */
export interface IntegratorKey {
  keyId: string;
  secret: string;
  /** The providers this key may sign for; null = any provider that is not reserved. */
  providers: ReadonlySet<string> | null;
}

/** Provider names that only their own verified routes may use (API.md: 422 PROVIDER_RESERVED). */
export const RESERVED_PROVIDERS: ReadonlySet<string> = new Set(['alipay', 'wechatpay']);

export const DEFAULT_KEY_ID = 'default';
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Same rule as a generic receipt's `provider` field. */
const PROVIDER = /^[a-z][a-z0-9_-]{1,31}$/;
const MIN_SECRET_BYTES = 16;

/**
 * The keys of RECEIPT_HMAC_KEYS plus `default` (RECEIPT_HMAC_SECRET, when set). Each problem is
 * pushed to `problems` (naming the entry by its key id, never by its secret).
 */
export function parseIntegratorKeys(
  raw: string | undefined,
  defaultSecret: string | null,
  problems: string[],
): Map<string, IntegratorKey> {
  const keys = new Map<string, IntegratorKey>();
  if (defaultSecret) {
    keys.set(DEFAULT_KEY_ID, { keyId: DEFAULT_KEY_ID, secret: defaultSecret, providers: null });
  }
  if (raw === undefined || raw.trim() === '') return keys;
  raw.split(',').forEach((entry, i) => {
    const text = entry.trim();
    const first = text.indexOf(':');
    const last = text.lastIndexOf(':');
    if (first <= 0 || last === first) {
      problems.push(`RECEIPT_HMAC_KEYS entry ${i + 1} must be keyId:secret:provider1|provider2`);
      return;
    }
    const keyId = text.slice(0, first);
    const secret = text.slice(first + 1, last);
    const providers = text
      .slice(last + 1)
      .split('|')
      .map((p) => p.trim());
    const where = `RECEIPT_HMAC_KEYS entry ${i + 1}`;
    if (!KEY_ID.test(keyId)) {
      problems.push(`${where}: key id must match ${KEY_ID.source}`);
      return;
    }
    if (keyId === DEFAULT_KEY_ID) {
      problems.push(`${where}: key id "default" is RECEIPT_HMAC_SECRET; choose another id`);
      return;
    }
    if (keys.has(keyId)) {
      problems.push(`${where}: key id "${keyId}" is listed twice`);
      return;
    }
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
      problems.push(
        `${where} ("${keyId}"): the secret must have at least ${MIN_SECRET_BYTES} bytes`,
      );
      return;
    }
    const bad = providers.filter((p) => !PROVIDER.test(p) || RESERVED_PROVIDERS.has(p));
    if (providers.length === 0 || bad.length) {
      problems.push(
        `${where} ("${keyId}"): providers must be names like sunmi-pos, not alipay or wechatpay (got "${bad.join('|')}")`,
      );
      return;
    }
    keys.set(keyId, { keyId, secret, providers: new Set(providers) });
  });
  return keys;
}
