import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { WEBHOOKS_QUEUE, WEBHOOK_DELIVER_JOB, WebhooksService } from '@app/complaints';
import type { DeliveryRound } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';

/** Deliveries claimed (and sent concurrently) per round. */
export const WEBHOOK_BATCH = 50;

/**
 * Merchant webhooks: POSTs the due deliveries of the outbox. Runs every second (or every
 * SWEEP_INTERVAL when shorter) from a local timer with a time-bucket job id, like the deadline
 * sweep, so deliveries go on after Redis lost every key. Several rounds may run at once (a slow
 * merchant endpoint does not hold up the others); the claim hands them disjoint deliveries.
 */
@Processor(WEBHOOKS_QUEUE, { concurrency: 4, autorun: false })
export class WebhooksProcessor extends TickingHost implements OnApplicationBootstrap {
  protected readonly logger = new Logger(WebhooksProcessor.name);

  readonly handlers: Record<typeof WEBHOOK_DELIVER_JOB, (job: Job) => Promise<unknown>> = {
    [WEBHOOK_DELIVER_JOB]: () => this.deliver(),
  };

  constructor(
    private readonly webhooks: WebhooksService,
    @InjectQueue(WEBHOOKS_QUEUE) private readonly queue: Queue,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    if (!this.runHere(this.queue, this.config.workerQueues)) return;
    this.startTicking(
      this.queue,
      WEBHOOK_DELIVER_JOB,
      'webhooks',
      Math.min(1000, this.config.sweepIntervalMs),
    );
  }

  /** Rounds until fewer than a full batch was due. */
  async deliver(): Promise<DeliveryRound> {
    const total: DeliveryRound = { claimed: 0, delivered: 0, retrying: 0, dead: 0 };
    for (;;) {
      const r = await this.webhooks.deliverDue(WEBHOOK_BATCH);
      total.claimed += r.claimed;
      total.delivered += r.delivered;
      total.retrying += r.retrying;
      total.dead += r.dead;
      if (r.claimed < WEBHOOK_BATCH) break;
    }
    if (total.claimed > 0) {
      this.logger.log(
        `webhooks: delivered ${total.delivered}, retrying ${total.retrying}, dead ${total.dead}`,
      );
    }
    return total;
  }
}
