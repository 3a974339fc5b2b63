/*
 * Dropping a month of receipts or refunds (docs/SCALE.md "Partitions by month", retention):
 * the month's keys are deleted from the key table, then the partition is detached and dropped,
 * in one transaction. The keys go first because they are what the rest of the schema references:
 * complaints.receipt_id and refunds.receipt_id point at receipt_keys(receipt_id) (NO ACTION), so
 * a month holding a receipt that a ticket (or a kept refund) still references fails on its first
 * statement (23503) and nothing is dropped. A ticket created on such a receipt meanwhile waits
 * for the key row's lock and is then checked the same way.
 */
import type { DataSource } from 'typeorm';

/** The partitioned tables of this lib with the key table that holds their global keys. */
export const MONTHLY_KEY_TABLES = {
  receipts: { keys: 'receipt_keys', id: 'receipt_id' },
  refunds: { keys: 'refund_keys', id: 'refund_id' },
} as const;
export type MonthlyTable = keyof typeof MONTHLY_KEY_TABLES;

const PARTITION = /^(receipts|refunds)_p\d{6}$/;

/**
 * Deletes the keys of `partition` (a month of `table`, `<table>_pYYYYMM`), detaches and drops
 * it. Throws 23503 (foreign_key_violation) when a row of the month is still referenced, 55P03
 * when the table stays locked past `lockTimeout` (DETACH locks the parent): nothing is changed.
 * Returns the rows dropped.
 */
export async function dropMonthPartition(
  db: DataSource,
  table: MonthlyTable,
  partition: string,
  lockTimeout = '5s',
): Promise<number> {
  if (!PARTITION.test(partition) || !partition.startsWith(`${table}_p`)) {
    throw new Error(`not a monthly partition of ${table}: ${partition}`);
  }
  const { keys, id } = MONTHLY_KEY_TABLES[table];
  return db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [lockTimeout]);
    const [, deleted] = (await tx.query(
      `DELETE FROM ${keys} k USING ${partition} p WHERE k.${id} = p.id`,
    )) as [unknown, number];
    await tx.query(`ALTER TABLE ${table} DETACH PARTITION ${partition}`);
    await tx.query(`DROP TABLE ${partition}`);
    return deleted;
  });
}
