import type { DataSource } from 'typeorm';

/**
 * SQL run as an insider with superuser rights who bypasses the trail's append-only trigger
 * (`session_replication_role = replica` skips ordinary triggers, for this transaction only):
 * what the hash chain and the checkpoints must still catch.
 */
export async function asInsider(
  db: DataSource,
  sql: string,
  params: unknown[] = [],
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(sql, params);
  });
}
