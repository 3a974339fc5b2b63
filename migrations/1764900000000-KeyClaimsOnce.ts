import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The key triggers of the partitioned `receipts` and `refunds` (1764800000000-MonthlyPartitions)
 * check each key once, not twice, and never scan the whole key table (issues 13 and 16; the
 * refund batch had fallen to 8.7 % of COPY).
 *
 * Before: every statement that inserted into the table was checked by a set-based trigger whose
 * first query (`INSERT … WHERE NOT EXISTS (… key table …)`) the planner ran as a merge or hash
 * anti-join over the WHOLE key table (it cannot know a 2,000-row statement meets only 2,000 keys):
 * a batch import paid O(keys stored) per chunk, O(n²) in all; and the intake's statements, which
 * claim their keys themselves in a CTE before inserting, were checked again row by row.
 *
 * Now:
 * - A statement that claimed every key it inserts under (its insert joins its own claim CTE:
 *   `… FROM t JOIN k ON k.<id> = t.id`) says so with a transaction-local marker,
 *   `set_config('hejie.<table>_keys_claimed', statement_timestamp()::text, true)`, evaluated once
 *   (an InitPlan) and only when the statement inserts rows. The trigger skips such a statement and
 *   clears the marker: it holds for that statement only (its time stamp, then cleared), so a later
 *   statement of the transaction — a plain INSERT, COPY, a fixture — is checked as before.
 * - Any other statement: its keys are claimed with `INSERT … ON CONFLICT DO NOTHING` (one index
 *   probe a row, whatever the size of the key table; in key order, as before), and only when some
 *   row did not claim its key (already held: by another row, by this statement's own claim CTE,
 *   or by a concurrent transaction once it committed) are the rows compared with the keys
 *   (`unique_violation` when another row holds one, as the unique index of the unpartitioned table).
 */
const CLAIM_FN = (table: string, keys: string, key: string, idCol: string, time: string) => `
  CREATE OR REPLACE FUNCTION ${table}_claim_keys() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    claimed bigint;
  BEGIN
    IF current_setting('hejie.${table}_keys_claimed', true) = statement_timestamp()::text THEN
      PERFORM set_config('hejie.${table}_keys_claimed', '', true);
      RETURN NULL;
    END IF;
    INSERT INTO ${keys} (provider, ${key}, ${idCol}, ${time})
    SELECT n.provider, n.${key}, n.id, n.${time} FROM new_rows n ORDER BY n.provider, n.${key}
    ON CONFLICT (provider, ${key}) DO NOTHING;
    GET DIAGNOSTICS claimed = ROW_COUNT;
    IF claimed = (SELECT count(*) FROM new_rows) THEN
      RETURN NULL;
    END IF;
    PERFORM 1 FROM new_rows n
      JOIN ${keys} k ON k.provider = n.provider AND k.${key} = n.${key}
     WHERE k.${idCol} <> n.id OR k.${time} <> n.${time}
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'duplicate key value violates unique constraint "${keys}_pkey"'
        USING ERRCODE = 'unique_violation', CONSTRAINT = '${keys}_pkey', TABLE = '${keys}',
              DETAIL = 'Key (provider, ${key}) already exists for another row.';
    END IF;
    RETURN NULL;
  END
  $$`;

/** 1764800000000-MonthlyPartitions' version, for `down`. */
const CLAIM_FN_BEFORE = (table: string, keys: string, key: string, idCol: string, time: string) => `
  CREATE OR REPLACE FUNCTION ${table}_claim_keys() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO ${keys} (provider, ${key}, ${idCol}, ${time})
    SELECT n.provider, n.${key}, n.id, n.${time} FROM new_rows n
     WHERE NOT EXISTS (SELECT 1 FROM ${keys} k WHERE k.provider = n.provider AND k.${key} = n.${key});
    PERFORM 1 FROM new_rows n
      JOIN ${keys} k ON k.provider = n.provider AND k.${key} = n.${key}
     WHERE k.${idCol} <> n.id OR k.${time} <> n.${time}
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'duplicate key value violates unique constraint "${keys}_pkey"'
        USING ERRCODE = 'unique_violation', CONSTRAINT = '${keys}_pkey', TABLE = '${keys}',
              DETAIL = 'Key (provider, ${key}) already exists for another row.';
    END IF;
    RETURN NULL;
  END
  $$`;

const TABLES = [
  ['receipts', 'receipt_keys', 'trade_no', 'receipt_id', 'paid_at'],
  ['refunds', 'refund_keys', 'refund_no', 'refund_id', 'refunded_at'],
] as const;

export class KeyClaimsOnce1764900000000 implements MigrationInterface {
  name = 'KeyClaimsOnce1764900000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [t, keys, key, id, time] of TABLES) await q.query(CLAIM_FN(t, keys, key, id, time));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [t, keys, key, id, time] of TABLES) {
      await q.query(CLAIM_FN_BEFORE(t, keys, key, id, time));
    }
  }
}
