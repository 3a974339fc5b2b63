import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CLOCK, HEJIE_CONFIG, pgCode } from '@app/shared';
import type { Clock, HejieConfig } from '@app/shared';
import { dropMonthPartition } from '@app/receipts';
import type { MonthlyTable } from '@app/receipts';

/** The tables partitioned by month (migration 1764800000000-MonthlyPartitions). */
export const PARTITIONED_TABLES = ['receipts', 'refunds', 'complaint_events'] as const;

/** Months created ahead of the current one (the migration creates as many). */
export const PARTITION_MONTHS_AHEAD = 3;

/** lock_timeout expired (the function gives up after 5 s). */
const LOCK_NOT_AVAILABLE = '55P03';
/** A row of the month is still referenced (a ticket's receipt, a kept refund's receipt). */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * What retention may drop, in this order: refunds before receipts (a refund references its
 * receipt's key). The trail (complaint_events) is never dropped by month: it is the case file.
 */
export const RETENTION_TABLES: readonly MonthlyTable[] = ['refunds', 'receipts'];

export interface RetentionResult {
  /** Partitions dropped (`<table>_pYYYYMM`). */
  dropped: string[];
  /** Partitions past retention that were kept, and why. */
  kept: { partition: string; reason: 'referenced' | 'busy' }[];
}

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
    @Optional() @Inject(HEJIE_CONFIG) private readonly config?: HejieConfig,
  ) {}

  /**
   * The monthly partitions of receipts and refunds whose whole month (UTC) lies more than
   * `retentionMonths` months before the current one: with 24 in December 2026, November 2024
   * and older. Oldest first, refunds before receipts for a month. None when retention is off (0).
   */
  async pastRetention(
    retentionMonths = this.config?.scale.partitionRetentionMonths ?? 0,
  ): Promise<{ table: MonthlyTable; partition: string }[]> {
    if (retentionMonths <= 0) return [];
    const cutoff = monthStart(this.clock.now(), -retentionMonths).replace(/-/g, '').slice(0, 6);
    const rows: { table: MonthlyTable; partition: string }[] = await this.db.query(
      `SELECT p.relname AS partition, t.relname AS table
         FROM pg_inherits i
         JOIN pg_class p ON p.oid = i.inhrelid
         JOIN pg_class t ON t.oid = i.inhparent
        WHERE i.inhparent = ANY($1::regclass[])
          AND p.relname ~ '_p[0-9]{6}$' AND right(p.relname, 6) < $2`,
      [RETENTION_TABLES, cutoff],
    );
    const order = (r: { table: MonthlyTable; partition: string }) =>
      `${r.partition.slice(-6)}${RETENTION_TABLES.indexOf(r.table)}`;
    return rows.sort((a, b) => (order(a) < order(b) ? -1 : 1));
  }

  /**
   * Retention (PARTITION_RETENTION_MONTHS; off by default): drops each month of receipts and
   * refunds past retention — its keys, then the partition (dropMonthPartition). A month that
   * still holds a receipt a ticket references (or a kept refund does) is refused by the foreign
   * keys and kept, with a warning; it is tried again at the next run and shows on /metrics
   * (hejie_partitions_past_retention) until its tickets are gone. A table busy past the lock
   * timeout is left to the next run.
   */
  async dropPastRetention(
    retentionMonths = this.config?.scale.partitionRetentionMonths ?? 0,
  ): Promise<RetentionResult> {
    const result: RetentionResult = { dropped: [], kept: [] };
    for (const { table, partition } of await this.pastRetention(retentionMonths)) {
      try {
        const rows = await dropMonthPartition(this.db, table, partition);
        result.dropped.push(partition);
        this.logger.log(`retention: dropped ${partition} (${rows} ${table}) and its keys`);
      } catch (e) {
        const code = pgCode(e);
        if (code === FOREIGN_KEY_VIOLATION) {
          result.kept.push({ partition, reason: 'referenced' });
          this.logger.warn(
            `retention: ${partition} kept past ${retentionMonths} months: its rows are still referenced (${String(e)})`,
          );
        } else if (code === LOCK_NOT_AVAILABLE) {
          result.kept.push({ partition, reason: 'busy' });
          this.logger.warn(`retention: ${table} busy, ${partition} left to the next run`);
        } else throw e;
      }
    }
    return result;
  }

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
