/*
 * Generic signed receipts (POS systems, aggregators): `X-Hejie-Signature: sha256=<hex>` over
 * the raw body, and a strict JSON shape, one object per request or one per NDJSON line.
 */
import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '@app/shared/errors/domain-error';
import { parseJsonStrict } from '@app/shared/safe-input';
import type { NormalizedReceipt } from './normalized-receipt';
import {
  MAX_ID_LENGTH,
  assertStorable,
  genericObject,
  isAmountMinor,
  notConfigured,
  parseIsoWithOffset,
  signatureInvalid,
  validationFailed,
} from './verifier-internals';

const SIGNATURE_HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/** Throws RECEIPT_SIGNATURE_INVALID unless the header is `sha256=<hex HMAC-SHA256(rawBody)>`. */
export function verifyHmacSignature(
  rawBody: string | Buffer,
  signatureHeader: string | undefined,
  secret: string,
): void {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw notConfigured('receipt HMAC secret is not configured');
  }
  if (typeof signatureHeader !== 'string' || signatureHeader.trim() === '') {
    throw signatureInvalid('missing signature header');
  }
  const m = SIGNATURE_HEADER.exec(signatureHeader.trim());
  if (!m) throw signatureInvalid('signature header must be sha256=<64 hex digits>');
  if (typeof rawBody !== 'string' && !Buffer.isBuffer(rawBody)) {
    throw signatureInvalid('body must be the raw request bytes');
  }
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(m[1], 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw signatureInvalid('signature does not match the body');
  }
}

const FIELDS = [
  'provider',
  'tradeNo',
  'payerId',
  'accountId',
  'amountMinor',
  'currency',
  'paidAt',
  'subject',
  'items',
] as const;
const KNOWN = new Set<string>(FIELDS);
const PROVIDER = /^[a-z][a-z0-9_-]{1,31}$/;
const CURRENCY = /^[A-Z]{3}$/;
const MAX_SUBJECT_LENGTH = 256;

/** Validates one generic receipt object; every problem is reported with its field. */
export function parseGenericReceipt(body: unknown): NormalizedReceipt {
  const { obj, errors } = genericObject(body, KNOWN, 'receipt');
  const fail = (field: string, message: string) => errors.push({ field, message });

  const { provider, tradeNo, payerId, accountId, amountMinor, currency, paidAt, subject, items } =
    obj;

  if (typeof provider !== 'string' || !PROVIDER.test(provider)) {
    fail('provider', 'must match ^[a-z][a-z0-9_-]{1,31}$');
  }
  for (const [field, value] of [
    ['tradeNo', tradeNo],
    ['payerId', payerId],
    ['accountId', accountId],
  ] as const) {
    if (typeof value !== 'string' || value.length === 0) fail(field, 'must be a non-empty string');
    else if (value.length > MAX_ID_LENGTH)
      fail(field, `must be at most ${MAX_ID_LENGTH} characters`);
  }
  if (!isAmountMinor(amountMinor, 0)) {
    fail('amountMinor', 'must be an integer number of minor units from 0 to 10^12');
  }
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
    fail('currency', 'must be an ISO 4217 code such as CNY');
  }
  const paidAtDate = typeof paidAt === 'string' ? parseIsoWithOffset(paidAt) : null;
  if (!paidAtDate) fail('paidAt', 'must be an ISO 8601 date-time with Z or an offset');
  if (typeof subject !== 'string') fail('subject', 'must be a string');
  else if (subject.length > MAX_SUBJECT_LENGTH) {
    fail('subject', `must be at most ${MAX_SUBJECT_LENGTH} characters`);
  }
  if (items !== undefined && !Array.isArray(items)) fail('items', 'must be an array');

  if (errors.length > 0 || !paidAtDate) throw validationFailed(errors, 'Invalid receipt');

  const receipt: NormalizedReceipt = {
    provider: provider as string,
    tradeNo: tradeNo as string,
    payerId: `${provider as string}:${payerId as string}`,
    accountId: accountId as string,
    amountMinor: amountMinor as number,
    currency: currency as string,
    paidAt: paidAtDate,
    subject: subject as string,
  };
  if (items !== undefined) receipt.items = items;
  return assertStorable(receipt, 'Invalid receipt');
}

export interface NdjsonLineResult {
  /** 1-based line number in the body (blank lines count). */
  line: number;
  receipt?: NormalizedReceipt;
  code?: string;
  detail?: string;
}

/** One non-blank NDJSON line: its 1-based number, the text to parse, the text to keep. */
export interface NdjsonLine {
  line: number;
  /** Without a trailing CR, and without the UTF-8 BOM on line 1: what is parsed. */
  text: string;
  /** Without a trailing CR (the BOM, if any, kept): the line as received, stored as evidence. */
  raw: string;
  /** False when the line's bytes are not UTF-8 (its text then holds U+FFFD): it is refused. */
  utf8: boolean;
}

const LF = 0x0a;

/**
 * The non-blank lines of an NDJSON body, one at a time, without splitting the whole body up
 * front (a batch is large: only the line being handled is decoded). A Buffer must hold UTF-8;
 * LF never occurs inside a multi-byte UTF-8 sequence, so splitting the bytes on it is the same
 * as splitting the decoded text.
 */
export function* ndjsonLines(body: string | Buffer): Generator<NdjsonLine> {
  const isBuffer = Buffer.isBuffer(body);
  if (!isBuffer && typeof body !== 'string') return;
  const length = body.length;
  let start = 0;
  for (let i = 0; start <= length; i++) {
    let end = isBuffer ? body.indexOf(LF, start) : body.indexOf('\n', start);
    if (end < 0) end = length;
    const utf8 = isBuffer ? isUtf8(body.subarray(start, end)) : true;
    let raw = isBuffer ? body.toString('utf8', start, end) : body.slice(start, end);
    start = end + 1;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const text = i === 0 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') continue;
    yield { line: i + 1, text, raw, utf8 };
  }
}

/**
 * One line → its receipt, or VALIDATION_FAILED with a detail. The line is parsed as every body
 * is (parseJsonStrict: prototype keys, U+0000 and unpaired surrogates refused).
 */
export function parseNdjsonLine(line: number, text: string, utf8 = true): NdjsonLineResult {
  const r = parseNdjsonItem(line, text, utf8, parseGenericReceipt);
  return r.item ? { line, receipt: r.item } : { line, code: r.code, detail: r.detail };
}

/** One NDJSON line read by any line parser (a receipt, a refund): its item, or code + detail. */
export interface NdjsonItemResult<T> {
  line: number;
  item?: T;
  code?: string;
  detail?: string;
}

/**
 * One line → `parse` of its strict JSON (parseJsonStrict), or the DomainError's code and
 * message (not UTF-8: VALIDATION_FAILED). The one line reader of every NDJSON batch route.
 */
export function parseNdjsonItem<T>(
  line: number,
  text: string,
  utf8: boolean,
  parse: (value: unknown) => T,
): NdjsonItemResult<T> {
  if (!utf8) return { line, code: 'VALIDATION_FAILED', detail: 'line is not valid UTF-8' };
  try {
    return { line, item: parse(parseJsonStrict(text)) };
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { line, code: e.code, detail: e.message };
  }
}

/**
 * One result per non-blank line, in order. Bad lines carry `code` (VALIDATION_FAILED) and a
 * `detail`; good ones a `receipt`. Linear in the body size.
 */
export function parseNdjsonBatch(rawBody: string | Buffer): NdjsonLineResult[] {
  const results: NdjsonLineResult[] = [];
  for (const { line, text, utf8 } of ndjsonLines(rawBody)) {
    results.push(parseNdjsonLine(line, text, utf8));
  }
  return results;
}
