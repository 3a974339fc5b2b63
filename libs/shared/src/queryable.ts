/**
 * Anything that runs one SQL statement and returns its rows: a DataSource, a transaction's
 * EntityManager, the ReadRouter. The narrow reads a lib offers the others take one, so they run
 * in the caller's transaction when there is one.
 */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** The rows of one statement, typed by the caller. */
export async function rowsOf<T>(db: Queryable, sql: string, params?: unknown[]): Promise<T[]> {
  return (await db.query(sql, params)) as T[];
}
