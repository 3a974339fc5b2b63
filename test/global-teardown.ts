import { Client } from 'pg';
import Redis from 'ioredis';

/** Drops the run's template and per-worker databases and deletes its queue keys. */
export default async function globalTeardown(): Promise<void> {
  const run = process.env.HEJIE_TEST_RUN;
  if (!run?.startsWith('hejie_test_')) return;
  if (process.env.KEEP_TEST_DB !== 'true') {
    const admin = new Client({ connectionString: process.env.HEJIE_TEST_ADMIN_URL });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${run}_%`],
    );
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
    await admin.end();
  }
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${run}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}
