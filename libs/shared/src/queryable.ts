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

/**
 * The bound parameters of a statement built in pieces: `p(value)` adds one and answers its
 * placeholder (`$n`) for the SQL text; `params` go with the statement.
 */
export function boundParams(): { params: unknown[]; p: (value: unknown) => string } {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  return { params, p };
}
