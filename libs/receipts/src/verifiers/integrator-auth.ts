/*
 * Who may post generic signed receipts (and refunds): integrator keys, checked in two steps.
 * Before the body is read: the key id names a configured key and the signature header is well
 * formed (`integratorFor`). After the bytes are in, before they are decoded: the HMAC over them
 * (verifyHmacSignature). Per receipt: the provider is not reserved and is one of the key's
 * (`assertProviderAllowed`).
 */
import { DomainError } from '@app/shared/errors/domain-error';
import {
  DEFAULT_KEY_ID,
  RESERVED_PROVIDERS,
  type IntegratorKey,
} from '@app/shared/config/integrator-keys';
import { signatureInvalid } from './verifier-internals';

export const SIGNATURE_HEADER_FORMAT = /^sha256=[0-9a-fA-F]{64}$/;

/**
 * The key a request names (X-Hejie-Key-Id, absent → `default`), once its signature header is
 * well formed. No key configured at all → 503 PROVIDER_NOT_CONFIGURED (the route is off); an
 * unknown key id, or a missing or malformed signature header → 401 RECEIPT_SIGNATURE_INVALID.
 */
export function integratorFor(
  keys: ReadonlyMap<string, IntegratorKey>,
  keyIdHeader: string | string[] | undefined,
  signatureHeader: string | string[] | undefined,
): IntegratorKey {
  if (keys.size === 0) {
    throw new DomainError(
      'PROVIDER_NOT_CONFIGURED',
      'this receipt route is off: neither RECEIPT_HMAC_SECRET nor RECEIPT_HMAC_KEYS is set',
    );
  }
  if (Array.isArray(keyIdHeader)) throw signatureInvalid('X-Hejie-Key-Id given more than once');
  const keyId = keyIdHeader === undefined ? DEFAULT_KEY_ID : keyIdHeader.trim();
  const key = keys.get(keyId);
  if (!key) throw signatureInvalid('unknown X-Hejie-Key-Id');
  if (typeof signatureHeader !== 'string' || signatureHeader.trim() === '') {
    throw signatureInvalid('missing signature header');
  }
  if (!SIGNATURE_HEADER_FORMAT.test(signatureHeader.trim())) {
    throw signatureInvalid('signature header must be sha256=<64 hex digits>');
  }
  return key;
}

/**
 * `alipay` and `wechatpay` only come through their verified routes → 422 PROVIDER_RESERVED;
 * a key may only sign for its own providers → 401 RECEIPT_SIGNATURE_INVALID.
 */
export function assertProviderAllowed(key: IntegratorKey, provider: string): void {
  if (RESERVED_PROVIDERS.has(provider)) {
    throw new DomainError(
      'PROVIDER_RESERVED',
      `provider "${provider}" is reserved: its receipts come only through its own verified route`,
      {},
      [{ field: 'provider', message: 'is reserved' }],
    );
  }
  if (key.providers && !key.providers.has(provider)) {
    throw signatureInvalid(`key "${key.keyId}" may not sign for provider "${provider}"`);
  }
}
