import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import {
  MAINTENANCE_QUEUE,
  OUTBOX_PURGE_JOB,
  OutboxRetentionService,
  PARTITIONS_JOB,
  PartitionsService,
} from '@app/complaints';
import type { PurgeResult, RetentionResult } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';
import type { Tick } from './ticking-host';

/** How often the purge runs, at most (more often when OUTBOX_RETENTION is short). */
const PURGE_EVERY_MS = 10 * 60_000;

/** The monthly partitions ahead are checked daily (and at boot). */
const PARTITIONS_EVERY_MS = 24 * 3600_000;

/**
 * Housekeeping: purges done outbox rows and delivered webhook deliveries older than
 * OUTBOX_RETENTION, in batches (see OutboxRetentionService), from a local timer with a
 * time-bucket job id like the other rounds; creates the monthly partitions of the next months
 * (PartitionsService) at boot and daily, and drops the months of receipts and refunds past
 * PARTITION_RETENTION_MONTHS (off by default; never a month a ticket still references).
 */
@Processor(MAINTENANCE_QUEUE, { concurrency: 1, autorun: false })
export class MaintenanceProcessor extends TickingHost {
  protected readonly logger = new Logger(MaintenanceProcessor.name);

  readonly handlers: Record<
    typeof OUTBOX_PURGE_JOB | typeof PARTITIONS_JOB,
    (job: Job) => Promise<unknown>
  > = {
    [OUTBOX_PURGE_JOB]: () => this.purge(),
    [PARTITIONS_JOB]: () => this.ensurePartitions(),
  };

  constructor(
    private readonly retention: OutboxRetentionService,
    private readonly partitions: PartitionsService,
    @InjectQueue(MAINTENANCE_QUEUE) queue: Queue,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    super(queue, config);
  }

  protected afterRun(): boolean {
    // At every boot, not only once a day: the day's job id may already be taken by another boot.
    this.ensurePartitions().catch((e: unknown) =>
      this.logger.error(`monthly partitions: ${String(e)}`),
    );
    return true;
  }

  protected ticks(): Tick[] {
    const purgeEvery = Math.floor(this.config.outboxRetentionMs / 10);
    return [
      {
        name: OUTBOX_PURGE_JOB,
        idPrefix: 'purge',
        everyMs: Math.max(1000, Math.min(PURGE_EVERY_MS, purgeEvery)),
      },
      { name: PARTITIONS_JOB, idPrefix: 'partitions', everyMs: PARTITIONS_EVERY_MS },
    ];
  }

  /** The months ahead, then retention (PARTITION_RETENTION_MONTHS; off by default). */
  async ensurePartitions(): Promise<{ created: string[] } & RetentionResult> {
    const created = await this.partitions.ensureAhead();
    if (created.length) this.logger.log(`created monthly partition(s) ${created.join(', ')}`);
    const retention = await this.partitions.dropPastRetention();
    return { created, ...retention };
  }

  async purge(): Promise<PurgeResult> {
    const r = await this.retention.purge();
    if (r.outbox + r.webhookDeliveries > 0) {
      this.logger.log(
        `purged ${r.outbox} outbox row(s) and ${r.webhookDeliveries} delivered webhook(s) past retention`,
      );
    }
    return r;
  }
}
