import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { baseDataSourceOptions } from '../libs/database/src/base-options';

/**
 * Once per test run: a template database migrated with the project's own migrations. Each Jest
 * worker then gets its own database cloned from it (`CREATE DATABASE … TEMPLATE`, a file copy:
 * much faster than migrating again) and its own BullMQ prefix — see test/worker-database.ts — so
 * suites in different workers share nothing. Jest workers inherit these variables.
 */
export default async function globalSetup(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hejie');
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const template = `hejie_test_${runId}_tpl`;
  const admin = new Client({ connectionString: withDb(base, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const ds = new DataSource(baseDataSourceOptions(withDb(base, template)));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();

  process.env.HEJIE_TEST_RUN = `hejie_test_${runId}`;
  process.env.HEJIE_TEST_TEMPLATE_URL = withDb(base, template);
  process.env.HEJIE_TEST_ADMIN_URL = withDb(base, 'postgres');
  process.env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  process.env.NODE_ENV = 'test';
}

export function withDb(base: URL, db: string): string {
  const u = new URL(base.toString());
  u.pathname = `/${db}`;
  return u.toString();
}
