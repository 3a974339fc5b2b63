import { DomainError, decodeCursor } from '@app/shared';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A `(timestamp, id)` keyset cursor exactly as our lists encode it (`toISOString()`, uuid).
 * decodeCursor only checks the shape; a forged part would reach PostgreSQL as a failed cast
 * (a 500) or, worse, be read (`'yesterday'` is a valid timestamptz literal).
 * (Its natural home is @app/shared's pagination, next to decodeCursor.)
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
