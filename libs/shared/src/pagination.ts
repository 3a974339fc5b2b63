import { DomainError } from './errors/domain-error';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

/**
 * Keyset cursors: an opaque base64url of the sort key of the last item returned, so pages stay
 * stable while new rows are inserted (no OFFSET).
 */
export function encodeCursor(key: (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  arity: number,
): (string | number | null)[] | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity) return key as (string | number | null)[];
  } catch {
    // fall through
  }
  throw new DomainError('VALIDATION_FAILED', 'cursor is not a cursor this API returned', {}, [
    { field: 'cursor', message: 'invalid cursor' },
  ]);
}

export function pageOf<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => (string | number | null)[],
): Page<T> {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  return { items, nextCursor: hasMore ? encodeCursor(keyOf(items[items.length - 1])) : null };
}

/** The same page with each item as `view` shows it (a row → its API view). */
export function mapPage<T, U>(page: Page<T>, view: (item: T) => U): Page<U> {
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A `(timestamp, id)` keyset cursor exactly as our lists encode it (`toISOString()`, uuid).
 * decodeCursor only checks the shape; a forged part would reach PostgreSQL as a failed cast
 * (a 500: `["1", uuid]` passes `Date.parse` but not `::timestamptz`) or, worse, be read
 * (`'yesterday'` is a valid timestamptz literal). Anything else → 400 VALIDATION_FAILED.
 */
export function decodeTimeIdCursor(cursor: string | undefined): [string, string] | null {
  const key = decodeCursor(cursor, 2);
  if (!key) return null;
  const [at, id] = key;
  if (typeof at === 'string' && typeof id === 'string' && UUID.test(id) && isCanonicalIso(at)) {
    return [at, id];
  }
  throw new DomainError('VALIDATION_FAILED', 'cursor is not a cursor this API returned', {}, [
    { field: 'cursor', message: 'invalid cursor' },
  ]);
}

function isCanonicalIso(value: string): boolean {
  const date = new Date(value);
  return !Number.isNaN(date.getTime()) && date.toISOString() === value;
}
