import { Client } from 'pg';

/**
 * Runs in each Jest worker before its test files (setupFilesAfterEnv): the worker's own
 * database, cloned from the run's migrated template the first time, and its own queue prefix.
 * DATABASE_URL and QUEUE_PREFIX are set before any suite starts an app or a worker process.
 */
const run = process.env.HEJIE_TEST_RUN;
if (run) {
  const worker = process.env.JEST_WORKER_ID ?? '1';
  const db = `${run}_w${worker}`;
  const url = new URL(process.env.HEJIE_TEST_TEMPLATE_URL!);
  url.pathname = `/${db}`;
  process.env.DATABASE_URL = url.toString();
  process.env.HEJIE_TEST_DB = db;
  process.env.QUEUE_PREFIX = `${run}_w${worker}`;

  beforeAll(async () => {
    const admin = new Client({ connectionString: process.env.HEJIE_TEST_ADMIN_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (rowCount) return;
      const template = new URL(process.env.HEJIE_TEST_TEMPLATE_URL!).pathname.slice(1);
      // Two workers cloning at the same instant: PostgreSQL refuses a template that another
      // session is copying ("being accessed by other users"); wait and try again.
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.query(`CREATE DATABASE ${db} TEMPLATE ${template}`);
          return;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === '42P04') return; // created meanwhile by this worker's previous file
          if (code !== '55006' || attempt > 50) throw e;
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
        }
      }
    } finally {
      await admin.end();
    }
  });
}
