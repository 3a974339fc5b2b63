import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Receipts, refunds and trail events partitioned by month (issue 16; docs/SCALE.md
 * "Partitions"): declarative RANGE partitioning on the time column the queries use (`paid_at`,
 * `refunded_at`, `at`), month bounds in UTC, one partition per month plus a DEFAULT partition,
 * so no row is ever refused. `hejie_ensure_month_partition()` (defined here) creates a month's
 * partition, moving the rows the DEFAULT partition holds for it; the worker's maintenance job
 * calls it for the current month and the next PARTITION_MONTHS_AHEAD at boot and daily.
 *
 * PostgreSQL requires the partition key in every unique index of a partitioned table, so the
 * contract's global keys live in small unpartitioned key tables:
 * - `receipt_keys (provider, trade_no) PRIMARY KEY → receipt_id UNIQUE, paid_at`: the intake
 *   claims the key first (`INSERT … ON CONFLICT DO NOTHING`, the same arbitration the old unique
 *   index made) and stores the receipt under the id it claimed. Foreign keys that referenced
 *   `receipts(id)` now reference `receipt_keys(receipt_id)`.
 * - `refund_keys (provider, refund_no) PRIMARY KEY → refund_id, refunded_at`.
 * A statement-level AFTER INSERT trigger on each partitioned table claims the keys for any other
 * writer (a plain INSERT, COPY, a fixture) and raises unique_violation when another row holds
 * one: the table behaves as it did with its unique index.
 * - `complaint_events (complaint_id, seq, at)` is the primary key. (complaint_id, seq) is
 *   globally unique because every writer holds the ticket row (FOR UPDATE, or the guarded
 *   UPDATE) and takes seq = event_count + 1 in the same transaction; the index catches a
 *   duplicate within a month. No key table: it would double the cost of every transition.
 *
 * The migration copies the existing rows in one statement per table (batches would not help
 * inside the migration's transaction); empty, it takes well under a second.
 */
export const PARTITIONED = [
  { table: 'receipts', column: 'paid_at' },
  { table: 'refunds', column: 'refunded_at' },
  { table: 'complaint_events', column: 'at' },
] as const;

/** Months created ahead of the current one, by the migration and by the maintenance job. */
export const PARTITION_MONTHS_AHEAD = 3;

const ENSURE_PARTITION_FN = `
  CREATE FUNCTION hejie_ensure_month_partition(p_parent regclass, p_month date) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
  -- Creating a partition locks the table: rather than queue every insert behind a long batch
  -- import, give up (55P03) and let the next run (daily, months ahead) do it.
  SET lock_timeout = '5s' AS $$
  DECLARE
    lo timestamptz := date_trunc('month', p_month)::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (date_trunc('month', p_month) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    nsp text;
    base text;
    part text;
    col text;
    def regclass;
    has_rows boolean := false;
  BEGIN
    -- Two workers at boot: one creates, the other finds it there.
    PERFORM pg_advisory_xact_lock(hashtext('hejie_ensure_month_partition'));
    SELECT n.nspname, c.relname INTO nsp, base
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = p_parent;
    part := format('%s_p%s', base, to_char(lo AT TIME ZONE 'UTC', 'YYYYMM'));
    IF to_regclass(format('%I.%I', nsp, part)) IS NOT NULL THEN
      RETURN false;
    END IF;
    SELECT a.attname INTO col
      FROM pg_partitioned_table pt
      JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
     WHERE pt.partrelid = p_parent;
    IF col IS NULL THEN
      RAISE EXCEPTION '% is not partitioned', p_parent;
    END IF;
    SELECT i.inhrelid::regclass INTO def
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = p_parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    IF def IS NOT NULL THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I >= $1 AND %I < $2)', def, col, col)
        INTO has_rows USING lo, hi;
    END IF;
    IF has_rows THEN
      -- The DEFAULT partition holds rows of this month: PostgreSQL would refuse the new
      -- partition. Detach it (its cloned triggers go with the detach: the move is not an
      -- UPDATE/DELETE of the trail), move the month's rows, attach it again.
      EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p_parent, def);
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                     nsp, part, p_parent, lo, hi);
      EXECUTE format('INSERT INTO %I.%I SELECT * FROM %s WHERE %I >= $1 AND %I < $2',
                     nsp, part, def, col, col) USING lo, hi;
      EXECUTE format('DELETE FROM %s WHERE %I >= $1 AND %I < $2', def, col, col) USING lo, hi;
      EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s DEFAULT', p_parent, def);
    ELSE
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                     nsp, part, p_parent, lo, hi);
    END IF;
    -- Statement-level triggers are not cloned to partitions: the trail's refusal of TRUNCATE is.
    IF base = 'complaint_events' THEN
      EXECUTE format('CREATE TRIGGER complaint_events_no_truncate BEFORE TRUNCATE ON %I.%I
                      FOR EACH STATEMENT EXECUTE FUNCTION complaint_events_append_only()', nsp, part);
    END IF;
    RETURN true;
  END
  $$`;

/**
 * After each statement that inserted into `table` (INSERT, COPY; through the parent), set-based
 * over its transition table: claims the keys of the rows inserted without the intake's key CTE
 * (a plain INSERT into the key table: a unique violation on a concurrent claim, or on two rows of
 * the statement with one key), then refuses (unique_violation, as the former unique index) any
 * row whose key another row holds. The intake's own rows pass: their key holds their id and
 * time. One statement-level call instead of a PL/pgSQL call per row (a batch import stores
 * 2,000 rows a statement). Rows written into a partition directly are not checked (write through
 * the parent; a superuser can bypass any trigger anyway).
 */
const CLAIM_FN = (table: string, keys: string, key: string, idCol: string, time: string) => `
  CREATE FUNCTION ${table}_claim_keys() RETURNS trigger LANGUAGE plpgsql AS $$
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

/** The key columns never change; a deleted row frees its key (dropping a month does not). */
const KEY_GUARD_FN = (
  table: string,
  keys: string,
  idCol: string,
  keyCols: string[],
  time: string,
) => `
  CREATE FUNCTION ${table}_key_guard() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      DELETE FROM ${keys} WHERE ${idCol} = OLD.id;
      RETURN OLD;
    END IF;
    IF (NEW.id, ${keyCols.map((c) => `NEW.${c}`).join(', ')}, NEW.${time})
       IS DISTINCT FROM (OLD.id, ${keyCols.map((c) => `OLD.${c}`).join(', ')}, OLD.${time}) THEN
      RAISE EXCEPTION '${table}: id, ${keyCols.join(', ')} and ${time} cannot change'
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
  END
  $$`;

interface ForeignKey {
  table: string;
  name: string;
  column: string;
  onDelete: string;
}

/** Foreign keys elsewhere that reference `table`(`column`), whatever other migrations added. */
async function referencing(q: QueryRunner, table: string, column: string): Promise<ForeignKey[]> {
  return q.query(
    `SELECT c.conrelid::regclass::text AS table, c.conname AS name, a.attname AS column,
            CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                               WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT'
                               ELSE 'NO ACTION' END AS "onDelete"
       FROM pg_constraint c
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
       JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND c.confrelid = $1::regclass AND r.attname = $2
        AND array_length(c.conkey, 1) = 1 AND c.conparentid = 0`,
    [table, column],
  );
}

async function repoint(q: QueryRunner, fks: ForeignKey[], target: string): Promise<void> {
  for (const fk of fks) {
    await q.query(`ALTER TABLE ${fk.table} DROP CONSTRAINT "${fk.name}"`);
    await q.query(
      `ALTER TABLE ${fk.table} ADD CONSTRAINT "${fk.name}" FOREIGN KEY ("${fk.column}")
         REFERENCES ${target} ON DELETE ${fk.onDelete}`,
    );
  }
}

/** The old table's columns, defaults, NOT NULL and CHECK constraints; no indexes. */
const LIKE = (table: string) =>
  `LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS`;

/** Months (first days, 'YYYY-MM-DD') holding rows, plus the current month and the ones ahead. */
async function monthsFor(q: QueryRunner, table: string, column: string): Promise<string[]> {
  const rows: { m: string }[] = await q.query(
    `SELECT to_char(m, 'YYYY-MM-DD') AS m FROM (
       SELECT DISTINCT date_trunc('month', ${column} AT TIME ZONE 'UTC') AS m FROM ${table}
       UNION
       SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => g)
         FROM generate_series(0, $1::int) g) x
     ORDER BY m`,
    [PARTITION_MONTHS_AHEAD],
  );
  return rows.map((r) => r.m);
}

/**
 * What a table carries that `LIKE` does not copy and that nothing here recreates by hand: its
 * non-unique indexes and its own foreign keys (whatever other migrations added), as SQL.
 */
async function carried(q: QueryRunner, table: string): Promise<string[]> {
  const indexes: { def: string }[] = await q.query(
    `SELECT replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') AS def
       FROM pg_index i
      WHERE i.indrelid = $1::regclass AND NOT i.indisunique
        AND i.indexrelid::regclass::text NOT IN
            ('ix_receipts_provider_trade_no', 'ix_refunds_provider_refund_no')`,
    [table],
  );
  const fks: { def: string }[] = await q.query(
    `SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', $2::text, conname,
                   pg_get_constraintdef(oid)) AS def
       FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'`,
    [table, table],
  );
  return [...indexes, ...fks].map((r) => r.def);
}

/**
 * `table` becomes partitioned by month of `column`: the old table is renamed, the new one takes
 * its columns, gets the months present, the ones ahead and DEFAULT, the rows are copied and the
 * old table dropped (a DROP is not a DELETE: the trail's triggers do not fire), then the
 * indexes and foreign keys it carried are made again (on every partition).
 */
async function partition(q: QueryRunner, table: string, column: string): Promise<void> {
  const months = await monthsFor(q, table, column);
  const again = await carried(q, table);
  await q.query(`ALTER TABLE ${table} RENAME TO ${table}_unpartitioned`);
  await q.query(
    `CREATE TABLE ${table} (${LIKE(`${table}_unpartitioned`)}) PARTITION BY RANGE (${column})`,
  );
  for (const m of months) {
    await q.query(`SELECT hejie_ensure_month_partition($1::regclass, $2::date)`, [table, m]);
  }
  await q.query(`CREATE TABLE ${table}_default PARTITION OF ${table} DEFAULT`);
  if (table === 'complaint_events') {
    await q.query(`
      CREATE TRIGGER complaint_events_no_truncate BEFORE TRUNCATE ON complaint_events_default
        FOR EACH STATEMENT EXECUTE FUNCTION complaint_events_append_only()`);
  }
  await q.query(`INSERT INTO ${table} SELECT * FROM ${table}_unpartitioned`);
  await q.query(`DROP TABLE ${table}_unpartitioned`);
  for (const sql of again) await q.query(sql);
}

/** The reverse: one plain table with the partitioned table's rows, indexes and foreign keys. */
async function unpartition(q: QueryRunner, table: string): Promise<void> {
  const again = await carried(q, table);
  await q.query(`ALTER TABLE ${table} RENAME TO ${table}_partitioned`);
  await q.query(`CREATE TABLE ${table} (${LIKE(`${table}_partitioned`)})`);
  await q.query(`INSERT INTO ${table} SELECT * FROM ${table}_partitioned`);
  await q.query(`DROP TABLE ${table}_partitioned`);
  for (const sql of again) await q.query(sql);
}

const APPEND_ONLY_TRIGGERS = [
  `CREATE TRIGGER complaint_events_no_update_delete
     BEFORE UPDATE OR DELETE ON complaint_events
     FOR EACH ROW EXECUTE FUNCTION complaint_events_append_only()`,
  `CREATE TRIGGER complaint_events_no_truncate
     BEFORE TRUNCATE ON complaint_events
     FOR EACH STATEMENT EXECUTE FUNCTION complaint_events_append_only()`,
  `REVOKE UPDATE, DELETE, TRUNCATE ON complaint_events FROM PUBLIC`,
];

export class MonthlyPartitions1764800000000 implements MigrationInterface {
  name = 'MonthlyPartitions1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(ENSURE_PARTITION_FN);

    // The global keys, from the rows as they are; what referenced receipts(id) now references
    // the key table (the old receipts can then go).
    await q.query(`
      CREATE TABLE receipt_keys (
        provider text NOT NULL,
        trade_no text NOT NULL,
        receipt_id uuid NOT NULL,
        paid_at timestamptz(3) NOT NULL,
        CONSTRAINT receipt_keys_pkey PRIMARY KEY (provider, trade_no),
        CONSTRAINT uq_receipt_keys_receipt UNIQUE (receipt_id)
      )`);
    await q.query(`INSERT INTO receipt_keys SELECT provider, trade_no, id, paid_at FROM receipts`);
    await q.query(`
      CREATE TABLE refund_keys (
        provider text NOT NULL,
        refund_no text NOT NULL,
        refund_id uuid NOT NULL,
        refunded_at timestamptz(3) NOT NULL,
        CONSTRAINT refund_keys_pkey PRIMARY KEY (provider, refund_no),
        CONSTRAINT uq_refund_keys_refund UNIQUE (refund_id)
      )`);
    await q.query(
      `INSERT INTO refund_keys SELECT provider, refund_no, id, refunded_at FROM refunds`,
    );
    await repoint(q, await referencing(q, 'receipts', 'id'), 'receipt_keys (receipt_id)');

    for (const { table, column } of PARTITIONED) await partition(q, table, column);

    // Keys, indexes, foreign keys and triggers, after the copy (each partition gets its own
    // copy of the indexes, foreign keys and row triggers).
    await q.query(`ALTER TABLE receipts ADD CONSTRAINT receipts_pkey PRIMARY KEY (id, paid_at)`);
    await q.query(`CREATE INDEX ix_receipts_provider_trade_no ON receipts (provider, trade_no)`);
    await q.query(`ALTER TABLE refunds ADD CONSTRAINT refunds_pkey PRIMARY KEY (id, refunded_at)`);
    await q.query(`CREATE INDEX ix_refunds_provider_refund_no ON refunds (provider, refund_no)`);
    await q.query(
      `ALTER TABLE complaint_events ADD CONSTRAINT pk_complaint_events PRIMARY KEY (complaint_id, seq, at)`,
    );

    await q.query(CLAIM_FN('receipts', 'receipt_keys', 'trade_no', 'receipt_id', 'paid_at'));
    await q.query(CLAIM_FN('refunds', 'refund_keys', 'refund_no', 'refund_id', 'refunded_at'));
    await q.query(
      KEY_GUARD_FN('receipts', 'receipt_keys', 'receipt_id', ['provider', 'trade_no'], 'paid_at'),
    );
    await q.query(
      KEY_GUARD_FN('refunds', 'refund_keys', 'refund_id', ['provider', 'refund_no'], 'refunded_at'),
    );
    for (const table of ['receipts', 'refunds']) {
      await q.query(`
        CREATE TRIGGER ${table}_claim_keys AFTER INSERT ON ${table}
          REFERENCING NEW TABLE AS new_rows
          FOR EACH STATEMENT EXECUTE FUNCTION ${table}_claim_keys()`);
      await q.query(`
        CREATE TRIGGER ${table}_key_guard BEFORE UPDATE OR DELETE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION ${table}_key_guard()`);
    }
    // The trail stays append-only (1764700300000-EventsAppendOnly).
    for (const sql of APPEND_ONLY_TRIGGERS) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table } of PARTITIONED) await unpartition(q, table);
    await q.query(`ALTER TABLE receipts ADD CONSTRAINT receipts_pkey PRIMARY KEY (id)`);
    await q.query(
      `CREATE UNIQUE INDEX uq_receipts_provider_trade_no ON receipts (provider, trade_no)`,
    );
    await repoint(q, await referencing(q, 'receipt_keys', 'receipt_id'), 'receipts (id)');
    await q.query(`ALTER TABLE refunds ADD CONSTRAINT refunds_pkey PRIMARY KEY (id)`);
    await q.query(
      `CREATE UNIQUE INDEX uq_refunds_provider_refund_no ON refunds (provider, refund_no)`,
    );
    await q.query(
      `ALTER TABLE complaint_events ADD CONSTRAINT pk_complaint_events PRIMARY KEY (complaint_id, seq)`,
    );
    for (const sql of APPEND_ONLY_TRIGGERS) await q.query(sql);
    await q.query(`DROP TABLE refund_keys`);
    await q.query(`DROP TABLE receipt_keys`);
    for (const fn of [
      'receipts_claim_keys()',
      'refunds_claim_keys()',
      'receipts_key_guard()',
      'refunds_key_guard()',
      'hejie_ensure_month_partition(regclass, date)',
    ]) {
      await q.query(`DROP FUNCTION ${fn}`);
    }
  }
}
