import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CLOCK, pgCode } from '@app/shared';
import type { Clock } from '@app/shared';

/** The tables partitioned by month (migration 1764800000000-MonthlyPartitions). */
export const PARTITIONED_TABLES = ['receipts', 'refunds', 'complaint_events'] as const;

/** Months created ahead of the current one (the migration creates as many). */
export const PARTITION_MONTHS_AHEAD = 3;

/** lock_timeout expired (the function gives up after 5 s). */
const LOCK_NOT_AVAILABLE = '55P03';

/** First day (UTC) of the month `offset` months after the one `at` falls in, as YYYY-MM-DD. */
export function monthStart(at: Date, offset = 0): string {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1))
    .toISOString()
    .slice(0, 10);
}

/**
 * Monthly partitions ahead of time (docs/SCALE.md "Partitions"): for each partitioned table, the
 * partitions of the current month (UTC, by the injected clock) and of the next
 * PARTITION_MONTHS_AHEAD, through `hejie_ensure_month_partition()`, which does nothing for a
 * month that exists, takes an advisory lock (two workers at boot make each partition once) and
 * moves into a new month's partition the rows its DEFAULT partition received for that month.
 * Run by the worker at boot and daily (MaintenanceProcessor). Without it nothing is refused:
 * rows of a month without a partition land in DEFAULT. A month whose table stays locked past the
 * function's lock_timeout (a long batch import) is left to the next run.
 */
@Injectable()
export class PartitionsService {
  private readonly logger = new Logger(PartitionsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Returns the partitions it created (`<table>_pYYYYMM`), none when all were there. */
  async ensureAhead(monthsAhead = PARTITION_MONTHS_AHEAD): Promise<string[]> {
    const now = this.clock.now();
    const created: string[] = [];
    for (const table of PARTITIONED_TABLES) {
      for (let i = 0; i <= monthsAhead; i++) {
        const month = monthStart(now, i);
        let row: { created: boolean };
        try {
          [row] = await this.db.query(
            `SELECT hejie_ensure_month_partition($1::regclass, $2::date) AS created`,
            [table, month],
          );
        } catch (e) {
          if (pgCode(e) !== LOCK_NOT_AVAILABLE) throw e;
          this.logger.warn(`${table} ${month}: table busy, partition left to the next run`);
          continue;
        }
        if (row.created) created.push(`${table}_p${month.slice(0, 4)}${month.slice(5, 7)}`);
      }
    }
    return created;
  }
}
