/*
 * What the NDJSON batch importers (receipts, refunds) share around their one transaction: a
 * dedicated pool connection, and running a batch again when PostgreSQL aborts it as a deadlock
 * with a concurrent batch.
 */
import type { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { DEADLOCK_DETECTED, pgCode } from '@app/shared';

/** Runs of one batch before a deadlock is reported (as a 500): the first and two retries. */
export const BATCH_DEADLOCK_TRIES = 3;

/** 100–300 ms, then 200–600 ms: the other batch usually commits within that. */
function deadlockBackoffMs(attempt: number): number {
  return 100 * attempt * (1 + 2 * Math.random());
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `run()` again (up to BATCH_DEADLOCK_TRIES in all) when it fails with 40P01: two batches that
 * share keys across chunks lock them in different orders and PostgreSQL aborts one. The run
 * again finds the other's rows and counts them as duplicates.
 */
export async function retryOnDeadlock<T>(
  run: () => Promise<T>,
  logger: Logger,
  what: string,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (pgCode(e) !== DEADLOCK_DETECTED || attempt >= BATCH_DEADLOCK_TRIES) throw e;
      logger.warn(`${what} deadlocked (attempt ${attempt}); running it again`);
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
