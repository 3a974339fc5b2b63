/*
 * The one place where untrusted text becomes data. Every parsed body (JSON, form, each NDJSON
 * line) goes through `assertCleanValue`: PostgreSQL refuses U+0000 in text and jsonb, unpaired
 * surrogates make validators throw (`isEmail` → URIError) and jsonb refuse the row, and the
 * keys `__proto__`, `constructor` and `prototype` are how prototype pollution gets in. All of
 * them are a 400 VALIDATION_FAILED here, never a 500 further down (API.md, Operations → Limits).
 */
import sjson from 'secure-json-parse';
import { DomainError } from './errors/domain-error';

/** Largest amount in minor units anywhere in the API (10^12 fen = 10 billion yuan). */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

const LONE_SURROGATE = /\p{Cs}/u;
/** Any surrogate code unit, paired or not: a quick test before the slower `u` one. */
const ANY_SURROGATE = /[\ud800-\udfff]/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a string may not be stored, or null when it may. */
export function badTextReason(s: string): string | null {
  if (s.includes('\u0000')) return 'contains U+0000';
  // In a `u` regex a surrogate pair is one code point: \p{Cs} only matches an unpaired half.
  if (hasLoneSurrogate(s)) return 'contains an unpaired surrogate';
  return null;
}

function hasLoneSurrogate(s: string): boolean {
  return ANY_SURROGATE.test(s) && LONE_SURROGATE.test(s);
}

function refuse(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field || '(body)'}: ${message}`, {}, [
    { field: field || '(body)', message },
  ]);
}

/**
 * Walks a parsed value (iteratively: a deeply nested body cannot blow the stack) and throws
 * VALIDATION_FAILED for a forbidden key or a string (key or value) that is not clean text.
 */
export function assertCleanValue(value: unknown, root = ''): void {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      const why = badTextReason(v);
      if (why) throw refuse(path, why);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        const at = path ? `${path}.${k}` : k;
        if (FORBIDDEN_KEYS.has(k)) throw refuse(at, 'is a forbidden key');
        const why = badTextReason(k);
        if (why) throw refuse(path || '(body)', `a key ${why}`);
        stack.push([(v as Record<string, unknown>)[k], at]);
      }
    }
  }
}

/**
 * JSON text → value, with secure-json-parse's prototype guards (`__proto__`, and
 * `constructor.prototype`, are errors) and then the clean-text check on every key and string.
 * Malformed JSON → VALIDATION_FAILED.
 */
export function parseJsonStrict(text: string): unknown {
  let value: unknown;
  try {
    value = sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
  } catch (e) {
    if (e instanceof SyntaxError && /prototype/i.test(e.message)) {
      throw refuse('(body)', 'a forbidden key (__proto__, constructor, prototype)');
    }
    throw new DomainError('VALIDATION_FAILED', 'body is not valid JSON');
  }
  if (mayHoldBadText(text)) assertCleanValue(value);
  return value;
}

/**
 * False only when the parsed value cannot hold a forbidden key or bad text: U+0000 and
 * surrogates can only come from a `\u` escape (JSON refuses raw control characters) or a raw
 * unpaired surrogate in the text, and a forbidden key only from its name in quotes (or an
 * escape). Most bodies (and NDJSON lines) take this fast path and skip the walk.
 */
function mayHoldBadText(text: string): boolean {
  return text.includes('\\u') || FORBIDDEN_KEY_TEXT.test(text) || hasLoneSurrogate(text);
}

const FORBIDDEN_KEY_TEXT = /"(?:__proto__|constructor|prototype)"/;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes → text, refusing bytes that are not UTF-8 (instead of replacing them with U+FFFD). */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new DomainError('VALIDATION_FAILED', 'body is not valid UTF-8');
  }
}
