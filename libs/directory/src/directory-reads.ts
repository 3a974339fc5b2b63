/*
 * The directory's narrow reads for the other libs. The directory owns merchants, stores, payment
 * accounts and offices (libs/database/src/table-owners.ts); another lib asks through these
 * instead of naming those tables in its SQL. Each takes a Queryable, so it runs in the caller's
 * transaction when there is one.
 */
import { rowsOf } from '@app/shared/queryable';
import type { Queryable } from '@app/shared/queryable';

/** id → value of the rows among `ids` that exist; `sql` selects `id, value` for `$1` (uuid[]). */
async function valueById(
  db: Queryable,
  sql: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await rowsOf<{ id: string; value: string }>(db, sql, [[...new Set(ids)]]);
  return new Map(rows.map((r) => [r.id, r.value]));
}

export const MerchantReads = {
  async exists(db: Queryable, merchantId: string): Promise<boolean> {
    const rows = await rowsOf(db, 'SELECT 1 FROM merchants WHERE id = $1', [merchantId]);
    return rows.length > 0;
  },

  /** id → name of the merchants among `ids` that exist. */
  names(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
    return valueById(db, 'SELECT id, name AS value FROM merchants WHERE id = ANY($1::uuid[])', ids);
  },

  /** The merchants among `ids` that have a webhook URL. */
  async withWebhook(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await rowsOf<{ id: string }>(
      db,
      'SELECT id FROM merchants WHERE id = ANY($1::uuid[]) AND webhook_url IS NOT NULL',
      [[...new Set(ids)]],
    );
    return new Set(rows.map((r) => r.id));
  },
};

/** A merchant as the respondent of a case: its registered name and credit code, and one store. */
export interface RespondentFacts {
  name: string | null;
  creditCode: string | null;
  storeName: string | null;
  storeAddress: string | null;
}

export const StoreReads = {
  /** The merchant and (when given, and found) the store; null when the merchant does not exist. */
  async respondent(
    db: Queryable,
    merchantId: string,
    storeId: string | null,
  ): Promise<RespondentFacts | null> {
    const [r] = await rowsOf<{
      name: string | null;
      credit_code: string | null;
      address: string | null;
      store_name: string | null;
    }>(
      db,
      `SELECT m.name, m.credit_code, s.address, s.name AS store_name
         FROM merchants m LEFT JOIN stores s ON s.id = $2
        WHERE m.id = $1`,
      [merchantId, storeId],
    );
    if (!r) return null;
    return {
      name: r.name,
      creditCode: r.credit_code,
      storeName: r.store_name,
      storeAddress: r.address,
    };
  },
};

export const OfficeReads = {
  async name(db: Queryable, officeId: string): Promise<string | null> {
    const [o] = await rowsOf<{ name: string }>(db, 'SELECT name FROM offices WHERE id = $1', [
      officeId,
    ]);
    return o?.name ?? null;
  },

  /** id → rule set id of the offices among `ids` that exist. */
  ruleSets(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
    return valueById(
      db,
      'SELECT id, rule_set AS value FROM offices WHERE id = ANY($1::uuid[])',
      ids,
    );
  },

  /** The region code prefixes of an office's jurisdiction. */
  async prefixes(db: Queryable, officeId: string): Promise<string[]> {
    const rows = await rowsOf<{ prefix: string }>(
      db,
      'SELECT prefix FROM office_regions WHERE office_id = $1',
      [officeId],
    );
    return rows.map((r) => r.prefix);
  },
};
