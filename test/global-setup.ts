import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { baseDataSourceOptions } from '../libs/database/src/base-options';

/**
 * One fresh PostgreSQL database per test run, migrated with the project's own migrations, and a
 * BullMQ prefix of its own on the shared Redis. Jest workers inherit these variables.
 */
export default async function globalSetup(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hejie');
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `hejie_test_${runId}`;
  const admin = new Client({ connectionString: withDb(base, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();

  const url = withDb(base, dbName);
  const ds = new DataSource(baseDataSourceOptions(url));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();

  process.env.DATABASE_URL = url;
  process.env.HEJIE_TEST_DB = dbName;
  process.env.HEJIE_TEST_ADMIN_URL = withDb(base, 'postgres');
  process.env.QUEUE_PREFIX = `hejie_test_${runId}`;
  process.env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  process.env.NODE_ENV = 'test';
}

function withDb(base: URL, db: string): string {
  const u = new URL(base.toString());
  u.pathname = `/${db}`;
  return u.toString();
}
