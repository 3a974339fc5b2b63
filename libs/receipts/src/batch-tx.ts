/*
 * What the NDJSON batch importers (receipts, refunds) share around their one transaction: a
 * dedicated pool connection, the chunked COPY into a staging table, the marker of statements that
 * claimed their keys themselves, and running a batch again when PostgreSQL aborts it as a
 * deadlock with a concurrent batch.
 */
import type { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { DEADLOCK_DETECTED, pgCode } from '@app/shared';
import { copyIn } from './copy-in';
import type { NdjsonItemResult } from './verifiers';

/** One line of a signed NDJSON batch: its item (with its raw text, the evidence) or why not. */
export interface SignedBatchLine<T> extends NdjsonItemResult<T> {
  raw?: string;
}

/** A batch line with an item, ready to stage. */
export type GoodLine<T> = SignedBatchLine<T> & { item: T; raw: string };

/** What a batch import answers with: its counts and the lines it refused, by number. */
export interface BatchCounts {
  created: number;
  duplicates: number;
  rejected: { line: number; code: string; detail?: string }[];
}

/** The lines to stage; the others are recorded as rejected (in `result`) on the way. */
export function* goodLines<T>(
  lines: Iterable<SignedBatchLine<T>>,
  result: BatchCounts,
): Iterable<GoodLine<T>> {
  for (const l of lines) {
    if (l.item) yield { ...l, item: l.item, raw: l.raw ?? '' };
    else
      result.rejected.push({ line: l.line, code: l.code ?? 'VALIDATION_FAILED', detail: l.detail });
  }
}

/** Runs of one batch before a deadlock is reported (as a 500): the first and two retries. */
export const BATCH_DEADLOCK_TRIES = 3;

/** 100–300 ms, then 200–600 ms: the other batch usually commits within that. */
function deadlockBackoffMs(attempt: number): number {
  return 100 * attempt * (1 + 2 * Math.random());
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `run()` again (up to BATCH_DEADLOCK_TRIES in all) when it fails with 40P01 (or another of
 * `codes`): two batches that share keys across chunks lock them in different orders and
 * PostgreSQL aborts one. The run again finds the other's rows and counts them as duplicates.
 */
export async function retryOnDeadlock<T>(
  run: () => Promise<T>,
  logger: Logger,
  what: string,
  codes: string[] = [DEADLOCK_DETECTED],
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      const code = pgCode(e);
      if (!code || !codes.includes(code) || attempt >= BATCH_DEADLOCK_TRIES) throw e;
      logger.warn(`${what} failed with ${code} (attempt ${attempt}); running it again`);
      await sleep(deadlockBackoffMs(attempt));
    }
  }
}

/** A pool connection of its own (COPY streams need the raw pg client), and its release. */
export function obtainClient(db: DataSource): Promise<[PoolClient, (err?: Error) => void]> {
  const driver = db.driver as unknown as {
    obtainMasterConnection(): Promise<[PoolClient, (err?: Error) => void]>;
  };
  return driver.obtainMasterConnection();
}

/**
 * What one chunk of a batch sends: its staging rows (COPY text format) and what the caller needs
 * to store them (its lines, fingerprints…).
 */
export interface StagedChunk<C> {
  /** COPY text rows for `copy` (unused without a staging table). */
  rows: string;
  context: C;
}

export interface ChunkedCopy<T, C> {
  /** Statements run with BEGIN in one simple query (the staging table, locks). */
  begin: string;
  /**
   * `COPY <staging> (…) FROM STDIN`, or null: no staging table, `store` writes the chunk itself
   * (the refund batch: reads by key arrays, then COPY of the accepted rows into the table).
   */
  copy: string | null;
  /** Lines a chunk. */
  chunkLines: number;
  /** The lines to stage, in body order (the caller has set the others aside). */
  lines: Iterable<T>;
  /**
   * A chunk's staging rows; null when nothing of it is to be staged. A lookup it needs goes on
   * `client` (queued after the chunk in flight), never on another pool connection: a batch that
   * holds its client and waits for a second connection can, with enough batches at once, wait
   * forever for a pool they all hold.
   */
  prepare(chunk: T[], client: PoolClient): StagedChunk<C> | null | Promise<StagedChunk<C> | null>;
  /**
   * After the chunk's COPY (`copied` rows; 0 without `copy`) on the client: its statements,
   * ending with the staging table empty for the next chunk. Runs while the next chunk is being
   * prepared.
   */
  store(client: PoolClient, context: C, copied: number): Promise<void>;
}

/**
 * A batch in one transaction on a client of its own, through a staging table, chunk by chunk:
 * BEGIN (and `begin`), then per `chunkLines` lines `prepare` (here), COPY and `store` (on the
 * client) — chunk n is stored while chunk n + 1 is prepared, so PostgreSQL and this process work
 * at the same time, with one chunk in flight and one in preparation (memory does not grow with the
 * body) — then COMMIT. Any failure rolls the whole batch back (after the chunk in flight settled:
 * the client runs one statement at a time); a client in an unknown state is closed rather than
 * handed back to the pool. The receipt and the refund batches.
 */
export async function chunkedCopyTransaction<T, C>(
  db: DataSource,
  batch: ChunkedCopy<T, C>,
): Promise<void> {
  const [client, release] = await obtainClient(db);
  let broken: Error | undefined;
  const onClientError = (e: Error) => {
    broken = e;
  };
  client.on('error', onClientError);
  let inFlight: Promise<void> | null = null;
  try {
    await client.query(`BEGIN; ${batch.begin}`);
    let chunk: T[] = [];
    const flush = async () => {
      const staged = chunk.length ? await batch.prepare(chunk, client) : null;
      chunk = [];
      if (!staged) return;
      if (inFlight) await inFlight;
      const copy = batch.copy;
      inFlight = (copy ? copyIn(client, copy, staged.rows) : Promise.resolve(0)).then((copied) =>
        batch.store(client, staged.context, copied),
      );
      // Observed when awaited (next chunk, end, or the rollback); never "unhandled" meanwhile.
      inFlight.catch(() => undefined);
    };
    for (const l of batch.lines) {
      chunk.push(l);
      if (chunk.length === batch.chunkLines) await flush();
      // Let the chunk in flight's replies be handled (its next statement sent) while this one
      // is parsed: a synchronous loop holds the event loop and PostgreSQL waits for it.
      else if (inFlight && chunk.length % 100 === 0)
        await new Promise<void>((r) => setImmediate(r));
    }
    await flush();
    if (inFlight) await inFlight;
    inFlight = null;
    await client.query('COMMIT');
  } catch (e) {
    // The chunk in flight failing first is the cause: a lookup queued behind it then fails only
    // because the transaction is aborted (25P02), and a deadlock must stay a deadlock (retried).
    const cause = await (inFlight as Promise<void> | null)?.then(
      () => undefined,
      (f: unknown) => f,
    );
    if (!broken) {
      await client.query('ROLLBACK').catch((re: Error) => {
        broken = re;
      });
    }
    throw cause ?? e;
  } finally {
    client.removeListener('error', onClientError);
    release(broken);
  }
}

/**
 * A condition (always true, evaluated once: an InitPlan) for the INSERT of a statement that
 * claimed in its own CTE the key of every row it inserts into `table` (its rows come from
 * `… JOIN k ON k.<id> = t.id`): the table's key trigger then skips the statement instead of
 * checking the keys again (migrations/1764900000000-KeyClaimsOnce.ts). The marker holds for
 * this statement only. Never in a statement that inserts rows whose key it did not claim.
 */
export const keysClaimedHere = (table: 'receipts' | 'refunds'): string =>
  `(SELECT set_config('hejie.${table}_keys_claimed', statement_timestamp()::text, true)) IS NOT NULL`;
