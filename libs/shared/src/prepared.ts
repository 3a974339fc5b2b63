import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { Queryable } from './queryable';

/** PostgreSQL's answer when a prepared statement's result columns changed (a column added). */
const PLAN_CHANGED = 'cached plan must not change result type';

/** A distinct texts bound: dynamic statements must not grow the map without end. */
const MAX_NAMES = 256;

let generation = 0;
const names = new Map<string, string>();

function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    if (names.size >= MAX_NAMES) names.clear();
    name = `hj${generation}_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * The primary's pg pool as a Queryable that sends each statement as a NAMED statement:
 * PostgreSQL parses and plans a text once per connection instead of on every call, and the call
 * skips TypeORM's query runner (a runner, logging and event broadcast per statement). Same pool,
 * same connections and the same rows as DataSource.query; errors are pg's own (pgCode and
 * pgConstraint read both). For the hot statements of a request (initiate resolution's read and
 * write), not for DDL or statements whose text changes with every call.
 *
 * A statement prepared before a migration added a column to a table it reads with `*` fails
 * once with "cached plan must not change result type": it is then sent again under a new name
 * (every name changes at once), so a rolling migration costs one retry per statement.
 */
export function preparedOn(db: DataSource): Queryable {
  // Read at call time: the driver creates its pools when the DataSource initializes.
  const pool = () => (db.driver as unknown as { master: Pool }).master;
  const run = async (text: string, values?: unknown[]) =>
    (await pool().query({ name: nameOf(text), text, values })).rows;
  return {
    async query(text: string, values?: unknown[]): Promise<unknown> {
      try {
        return await run(text, values);
      } catch (e) {
        if (!(e instanceof Error) || !e.message.includes(PLAN_CHANGED)) throw e;
        generation++;
        names.clear();
        return run(text, values);
      }
    },
  };
}
