import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { MAINTENANCE_QUEUE, OUTBOX_PURGE_JOB, OutboxRetentionService } from '@app/complaints';
import type { PurgeResult } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';

/** How often the purge runs, at most (more often when OUTBOX_RETENTION is short). */
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * Housekeeping: purges done outbox rows and delivered webhook deliveries older than
 * OUTBOX_RETENTION, in batches (see OutboxRetentionService), from a local timer with a
 * time-bucket job id like the other rounds.
 */
@Processor(MAINTENANCE_QUEUE, { concurrency: 1, autorun: false })
export class MaintenanceProcessor extends TickingHost implements OnApplicationBootstrap {
  protected readonly logger = new Logger(MaintenanceProcessor.name);

  readonly handlers: Record<typeof OUTBOX_PURGE_JOB, (job: Job) => Promise<unknown>> = {
    [OUTBOX_PURGE_JOB]: () => this.purge(),
  };

  constructor(
    private readonly retention: OutboxRetentionService,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (!this.runHere(this.queue, this.config.workerQueues)) return;
    this.startTicking(
      this.queue,
      OUTBOX_PURGE_JOB,
      'purge',
      Math.max(1000, Math.min(PURGE_EVERY_MS, Math.floor(this.config.outboxRetentionMs / 10))),
    );
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
