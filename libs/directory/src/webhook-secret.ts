import { createHash, randomBytes } from 'node:crypto';
import { openFor, sealFor } from '@app/shared';

/**
 * A merchant's webhook signing secret: `whsec_` and 32 random bytes (base64url). The HMAC key is
 * the whole string's UTF-8 bytes, prefix included, so a receiver uses it exactly as given.
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export interface SealedWebhookSecret {
  /**
   * `v2.<iv>.<tag>.<ciphertext>`: sealed for the purpose 'webhook-secret' with the merchant's id
   * as associated data (libs/shared/src/crypto): a database dump leaks no secret.
   */
  sealed: string;
  /** Which key sealed it (see webhookSecretKeyId). */
  keyId: string;
}

export function sealWebhookSecret(
  secret: string,
  key: Buffer,
  merchantId: string,
): SealedWebhookSecret {
  return {
    sealed: sealFor(key, 'webhook-secret', merchantId, secret),
    keyId: webhookSecretKeyId(key),
  };
}

export function openWebhookSecret(sealed: string, key: Buffer, merchantId: string): string {
  return openFor(key, 'webhook-secret', merchantId, sealed);
}

/**
 * A short, non-reversible id of the key that sealed a secret. Workers only claim deliveries of
 * merchants whose secret their own PII_KEY opens, so a worker started with another key (a
 * half-finished key rotation) never burns a merchant's attempts on deliveries it cannot sign.
 */
export function webhookSecretKeyId(key: Buffer): string {
  return createHash('sha256')
    .update('hejie webhook secret key id\u0000')
    .update(key)
    .digest('hex')
    .slice(0, 16);
}
