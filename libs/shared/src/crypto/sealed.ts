import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The one home of encryption at rest. Every sealed value is AES-256-GCM with
 *  - a key of its own purpose, derived from PII_KEY with HKDF-SHA256 (RFC 5869): a key that
 *    leaks from one use (say, webhook secrets) opens nothing else, and a value cannot be moved
 *    from one column to another;
 *  - the row's id as associated data: a sealed value copied onto another row does not open;
 *  - a fresh 96-bit IV per value and a pinned 16-byte tag (checked on open, so a truncated tag
 *    cannot lower the forgery bound).
 * Stored as `v2.<iv>.<tag>.<ciphertext>` (base64url).
 */
export const SEAL_PURPOSES = ['phone', 'webhook-secret', 'complainant'] as const;
export type SealPurpose = (typeof SEAL_PURPOSES)[number];

const VERSION = 'v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = Buffer.from('hejie/pii-key/v2', 'utf8');

const derived = new WeakMap<Buffer, Map<SealPurpose, Buffer>>();

/** The purpose's 32-byte key, derived from PII_KEY (cached per master key). */
export function purposeKey(master: Buffer, purpose: SealPurpose): Buffer {
  if (master.length !== 32) throw new Error('PII_KEY must be 32 bytes');
  let byPurpose = derived.get(master);
  if (!byPurpose) derived.set(master, (byPurpose = new Map()));
  let key = byPurpose.get(purpose);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', master, HKDF_SALT, `hejie seal ${purpose}`, 32));
    byPurpose.set(purpose, key);
  }
  return key;
}

function aad(purpose: SealPurpose, rowId: string): Buffer {
  if (!rowId) throw new Error('a sealed value needs the id of its row');
  return Buffer.from(`${purpose}\u0000${rowId}`, 'utf8');
}

export function sealFor(
  master: Buffer,
  purpose: SealPurpose,
  rowId: string,
  plaintext: string,
): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', purposeKey(master, purpose), iv, {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(aad(purpose, rowId));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), ct]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Throws on anything but a value sealed by sealFor with this key, purpose and row id. */
export function openFor(
  master: Buffer,
  purpose: SealPurpose,
  rowId: string,
  sealed: string,
): string {
  const [v, iv64, tag64, ct64, extra] = sealed.split('.');
  if (v !== VERSION || !iv64 || !tag64 || ct64 === undefined || extra !== undefined) {
    throw new Error(`not a ${VERSION} sealed value`);
  }
  const iv = Buffer.from(iv64, 'base64url');
  const tag = Buffer.from(tag64, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('malformed sealed value');
  return gcmOpen(purposeKey(master, purpose), iv, tag, ct64, aad(purpose, rowId));
}

/**
 * The format before v2 (`v1.<iv>.<tag>.<ct>`: PII_KEY itself, no associated data). Only the
 * re-encryption migration reads it; nothing writes it any more.
 */
export function openLegacyV1(master: Buffer, sealed: string): string {
  const [v, iv64, tag64, ct64] = sealed.split('.');
  if (v !== 'v1' || !iv64 || !tag64 || ct64 === undefined) throw new Error('not a v1 sealed value');
  const tag = Buffer.from(tag64, 'base64url');
  if (tag.length !== TAG_BYTES) throw new Error('malformed sealed value');
  return gcmOpen(master, Buffer.from(iv64, 'base64url'), tag, ct64);
}

/**
 * AES-256-GCM: the UTF-8 text of base64url `ct64` (with `additional` data when given); throws
 * when the tag does not match.
 */
function gcmOpen(key: Buffer, iv: Buffer, tag: Buffer, ct64: string, additional?: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (additional) decipher.setAAD(additional);
  decipher.setAuthTag(tag);
  return Buffer.concat([
    decipher.update(Buffer.from(ct64, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

/** PII_KEY as configured: 32 random bytes, base64. Null when the text is not that. */
export function parsePiiKey(raw: string | undefined): Buffer | null {
  if (!raw || !/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) return null;
  const key = Buffer.from(raw, 'base64');
  return key.length === 32 ? key : null;
}
