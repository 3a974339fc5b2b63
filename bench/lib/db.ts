import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { baseDataSourceOptions } from '../../libs/database/src/base-options';

export interface BenchDb {
  name: string;
  url: string;
  /** A small pool for the bench's own setup and checks (not the apps'). */
  pool: Pool;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return withDb(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hejie', 'postgres');
}

function withDb(base: string, db: string): string {
  const u = new URL(base);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * `hejie_bench_<tag>_<random>`, created and migrated with the project's own migrations. With
 * `reuse` (a name), that database instead: created if missing, else its pending migrations
 * applied (`reused` says which); it is always kept.
 */
export async function freshDatabase(
  tag: string,
  keep = false,
  reuse?: string,
): Promise<BenchDb & { reused: boolean }> {
  const name =
    reuse ?? `hejie_bench_${tag}_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  const reused =
    reuse !== undefined &&
    (await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [reuse])).rowCount === 1;
  if (!reused) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  if (reuse !== undefined) keep = true;
  const url = withDb(adminUrl(), name);
  const ds = new DataSource({ ...baseDataSourceOptions(url), extra: { max: 1 } });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  const pool = new Pool({ connectionString: url, max: 4 });
  return {
    name,
    url,
    reused,
    pool,
    drop: async () => {
      await pool.end();
      if (keep) return;
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Empties the ticket tables (and, with `receipts`, the receipts) between runs of a scenario. */
export async function truncate(pool: Pool, tables: string[]): Promise<void> {
  // The worker may be draining the outbox meanwhile; its locks can deadlock with TRUNCATE's.
  for (let attempt = 1; ; attempt++) {
    try {
      // complaint_events is append-only (a trigger refuses TRUNCATE): the bench resets its
      // stage as a superuser who skips triggers for this one transaction.
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL session_replication_role = replica');
        // Receipts and refunds keep their global keys in key tables (docs/SCALE.md): emptied with them.
        const keys = { receipts: 'receipt_keys', refunds: 'refund_keys' } as Record<string, string>;
        const all = [...tables, ...tables.flatMap((t) => (keys[t] ? [keys[t]] : []))];
        await client.query(`TRUNCATE ${all.join(', ')} CASCADE`);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== '40P01' || attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function serverVersions(pool: Pool): Promise<{ postgres: string }> {
  const [{ v }] = (await pool.query<{ v: string }>('SHOW server_version')).rows;
  return { postgres: v };
}
