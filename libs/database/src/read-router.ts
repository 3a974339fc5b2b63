import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { HEJIE_CONFIG, replicaLag, replicaReads } from '@app/shared';
import type { HejieConfig } from '@app/shared';

/** Errors that mean "this server is not there", as opposed to a bad query. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P03',
]);
function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    (err.code !== undefined && CONNECTION_CODES.has(err.code)) ||
    /Connection terminated|connect ECONNREFUSED|timeout/i.test(err.message ?? '')
  );
}

/**
 * Where read-heavy queries go (DESIGN.md "Scale"): lists, statistics and the live feed read from
 * the streaming replica while it is up and no further behind than REPLICA_MAX_LAG; writes, and
 * the reads that must see them (a ticket right after its transition, anything inside a
 * transaction), always use the primary through the DataSource as before. A background check
 * (REPLICA_CHECK_INTERVAL) measures the lag; a query that finds the replica gone is answered by
 * the primary and marks the replica down until the next good check.
 */
@Injectable()
export class ReadRouter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ReadRouter.name);
  private healthy = false;
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  /**
   * Its own lazy pool rather than TypeORM's `replication` option: TypeORM connects to every
   * replica at start-up, so a replica that is down would keep the API from starting at all.
   */
  private readonly replica: Pool | null;

  constructor(
    private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {
    const url = config.scale.databaseReplicaUrl;
    this.replica = url
      ? new Pool({
          connectionString: url,
          max: Number(process.env.DATABASE_POOL_SIZE ?? 20),
          connectionTimeoutMillis: 2000,
        })
      : null;
    // An idle client whose server went away emits 'error' on the pool: not fatal here.
    this.replica?.on('error', (e) => this.markDown(e));
  }

  get replicated(): boolean {
    return this.config.scale.databaseReplicaUrl !== null;
  }

  /** Whether the replica answers reads now (false without a replica). */
  get replicaInUse(): boolean {
    return this.replicated && this.healthy;
  }

  async onModuleInit(): Promise<void> {
    if (!this.replicated) return;
    await this.check();
    this.timer = setInterval(() => void this.check(), this.config.scale.replicaCheckIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.replica?.end().catch(() => undefined);
  }

  /** A read that may be a little stale: the replica when it is usable, else the primary. */
  async query<T = unknown>(sql: string, params?: unknown[]): Promise<T[]> {
    if (!this.replica || !this.healthy) {
      if (this.replica) replicaReads.inc({ target: 'primary' });
      return this.db.query(sql, params);
    }
    try {
      const { rows } = await this.replica.query(sql, params);
      replicaReads.inc({ target: 'replica' });
      return rows as T[];
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      this.markDown(e);
      replicaReads.inc({ target: 'primary' });
      return this.db.query(sql, params);
    }
  }

  /**
   * Lag = 0 when the replica has replayed everything the primary had written at the time of the
   * check; otherwise the age of the last transaction it replayed. Both servers are asked, so a
   * replica cut off from its primary (which believes itself caught up) is still seen as lagging.
   */
  async check(): Promise<number | null> {
    if (this.checking || !this.replica) return null;
    this.checking = true;
    try {
      const [{ lsn }]: { lsn: string }[] = await this.db.query(
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      const {
        rows: [row],
      } = await this.replica.query<{ behind: boolean; lag: number | null }>(
        `SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()) > 0 AS behind,
                extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS lag`,
        [lsn],
      );
      const lagSeconds = row.behind ? (row.lag ?? Number.POSITIVE_INFINITY) : 0;
      replicaLag.set(Number.isFinite(lagSeconds) ? lagSeconds : -1);
      const ok = lagSeconds * 1000 <= this.config.scale.replicaMaxLagMs;
      if (ok !== this.healthy) {
        this.logger.log(
          ok
            ? 'read replica in use'
            : `read replica ${Math.round(lagSeconds)} s behind: reads go to the primary`,
        );
      }
      this.healthy = ok;
      return lagSeconds;
    } catch (e) {
      this.markDown(e);
      return null;
    } finally {
      this.checking = false;
    }
  }

  private markDown(e: unknown): void {
    replicaLag.set(-1);
    if (this.healthy) {
      this.logger.warn(
        `read replica unavailable (${(e as Error).message}): reads go to the primary`,
      );
    }
    this.healthy = false;
  }
}
