/*
 * Helpers shared by the verifiers. Not exported from index.ts: the public surface is the
 * verifier functions themselves.
 */
import { createPublicKey, KeyObject, verify as cryptoVerify } from 'node:crypto';
import { DomainError, type FieldError } from '@app/shared/errors/domain-error';
import { parseDecimalToMinor } from '@app/shared/money';
import { MAX_AMOUNT_MINOR } from '@app/shared/safe-input';
import type { NormalizedReceipt } from './normalized-receipt';

export function signatureInvalid(detail: string): DomainError {
  return new DomainError('RECEIPT_SIGNATURE_INVALID', detail);
}

export function validationFailed(
  errors: FieldError[],
  prefix = 'Invalid notification',
): DomainError {
  const detail = `${prefix}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`;
  return new DomainError('VALIDATION_FAILED', detail, {}, errors);
}

export function fieldError(field: string, message: string): DomainError {
  return validationFailed([{ field, message }]);
}

/** A server-side configuration problem (unusable key), not the caller's fault. */
export function notConfigured(detail: string): DomainError {
  return new DomainError('PROVIDER_NOT_CONFIGURED', detail);
}

const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_MAX = 16;

/**
 * Loads an RSA public key from SPKI/PKCS#1 PEM, or from the bare base64 SPKI body that the
 * Alipay console hands out (no BEGIN/END lines). Parsed keys are cached by their text.
 * An unusable key is a configuration error → PROVIDER_NOT_CONFIGURED.
 */
export function loadRsaPublicKey(keyText: string, what: string): KeyObject {
  if (typeof keyText !== 'string' || keyText.trim() === '') {
    throw notConfigured(`${what} is not configured`);
  }
  const cached = keyCache.get(keyText);
  if (cached) return cached;
  let key: KeyObject;
  try {
    const trimmed = keyText.trim();
    if (trimmed.includes('-----BEGIN')) {
      key = createPublicKey(trimmed);
    } else {
      const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64');
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
  } catch {
    throw notConfigured(`${what} is not a readable public key`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw notConfigured(`${what} is not an RSA public key`);
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(keyText, key);
  return key;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (standard alphabet, correct padding); null when it is not. */
export function decodeBase64Strict(value: string): Buffer | null {
  if (value.length === 0 || !BASE64.test(value)) return null;
  return Buffer.from(value, 'base64');
}

/** RSASSA-PKCS1-v1_5 with SHA-256. Never throws: anything odd is just "not verified". */
export function verifyRsaSha256(message: string, signatureB64: string, key: KeyObject): boolean {
  const signature = decodeBase64Strict(signatureB64);
  if (!signature) return false;
  try {
    return cryptoVerify('sha256', Buffer.from(message, 'utf8'), key, signature);
  } catch {
    return false;
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Builds a Date from wall-clock parts and an offset east of UTC in minutes; null if out of range. */
export function dateFromParts(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMinutes: number,
): Date | null {
  if (year < 1970 || year > 9999) return null;
  if (month < 1 || month > 12) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return new Date(utc);
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Asia/Shanghai is UTC+8 all year (no DST since 1991): Alipay's local times. */
export const SHANGHAI_OFFSET_MINUTES = 8 * 60;

/** 'YYYY-MM-DD HH:mm:ss' in a fixed-offset zone (Asia/Shanghai = +480, no DST) → Date. */
export function parseLocalDateTime(value: string, offsetMinutes: number): Date | null {
  const m = LOCAL_DATE_TIME.exec(value);
  if (!m) return null;
  return dateFromParts(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6], 0, offsetMinutes);
}

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))$/;

/**
 * ISO 8601 / RFC 3339 date-time that carries its own offset ('Z' or ±HH:MM): a time without a
 * zone is ambiguous and refused. Seconds and fractions are optional; fractions beyond
 * milliseconds are truncated.
 */
export function parseIsoWithOffset(value: string, requireSeconds = false): Date | null {
  const m = ISO_WITH_OFFSET.exec(value);
  if (!m) return null;
  if (requireSeconds && m[6] === undefined) return null;
  let offset = 0;
  if (m[8] !== 'Z') {
    const oh = +m[10];
    const om = +m[11];
    if (oh > 23 || om > 59) return null;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] === undefined ? 0 : +m[7].slice(0, 3).padEnd(3, '0');
  return dateFromParts(+m[1], +m[2], +m[3], +m[4], +m[5], +(m[6] ?? 0), millis, offset);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * A generic signed body (receipt or refund): a JSON object (else 422 `Invalid <what>`), and a
 * field error for each key that is not `allowed`, the first of the caller's `errors`.
 */
export function genericObject(
  obj: unknown,
  allowed: ReadonlySet<string>,
  what: string,
): { obj: Record<string, unknown>; errors: FieldError[] } {
  if (!isPlainObject(obj)) {
    throw validationFailed(
      [{ field: '(body)', message: 'must be a JSON object' }],
      `Invalid ${what}`,
    );
  }
  const errors: FieldError[] = Object.keys(obj)
    .filter((k) => !allowed.has(k))
    .map((field) => ({ field, message: 'is not an allowed field' }));
  return { obj, errors };
}

/** An amount in minor units (fen) we accept: a safe integer from `min` to MAX_AMOUNT_MINOR. */
export function isAmountMinor(value: unknown, min: 0 | 1): value is number {
  return (
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= min &&
    value <= MAX_AMOUNT_MINOR
  );
}

/** The longest provider id (trade numbers, account ids, refund numbers) we accept. */
export const MAX_ID_LENGTH = 64;

/** A provider's id field: a non-empty string of at most MAX_ID_LENGTH, else a field error and ''. */
export function requiredId(errors: FieldError[], field: string, value: unknown): string {
  if (!nonEmptyString(value)) {
    errors.push({ field, message: 'is required' });
    return '';
  }
  if (value.length > MAX_ID_LENGTH) {
    errors.push({ field, message: `must be at most ${MAX_ID_LENGTH} characters` });
    return '';
  }
  return value;
}

/**
 * A provider's amount in yuan (Alipay's total_amount, refund_fee: "12.30") as minor units; a bad
 * one is a field error (with parseDecimalToMinor's message) and 0.
 */
export function requiredYuan(errors: FieldError[], field: string, value: unknown): number {
  try {
    return parseDecimalToMinor(value, field);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    errors.push({ field, message: e.message });
    return 0;
  }
}

/** A string PostgreSQL can store: no U+0000, no lone UTF-16 surrogate (`"\ud800"` in JSON). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export function unstorableString(value: string): boolean {
  return value.includes('\u0000') || LONE_SURROGATE.test(value);
}

function containsUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return unstorableString(value);
  if (Array.isArray(value)) return value.some(containsUnstorable);
  if (isPlainObject(value)) {
    return Object.entries(value).some(([k, v]) => unstorableString(k) || containsUnstorable(v));
  }
  return false;
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses a lone surrogate escape: a
 * receipt carrying one could never be stored (the insert would fail as a 500), so it is an
 * invalid notification.
 */
export function assertStorable(receipt: NormalizedReceipt, prefix: string): NormalizedReceipt {
  const fields = (['tradeNo', 'payerId', 'accountId', 'subject', 'items'] as const).filter((f) =>
    containsUnstorable(receipt[f]),
  );
  if (fields.length) {
    throw validationFailed(
      fields.map((field) => ({ field, message: 'must not contain U+0000 or a lone surrogate' })),
      prefix,
    );
  }
  return receipt;
}
