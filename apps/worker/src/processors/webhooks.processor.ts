import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { WEBHOOKS_QUEUE, WEBHOOK_DELIVER_JOB, WebhooksService } from '@app/complaints';
import type { DeliveryRound } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';
import type { Tick } from './ticking-host';
import { roundsUntilShort } from './rounds';

/** Deliveries claimed (and sent concurrently) per round. */
export const WEBHOOK_BATCH = 50;

/**
 * Merchant webhooks: POSTs the due deliveries of the outbox. Runs every second (or every
 * SWEEP_INTERVAL when shorter) from a local timer with a time-bucket job id, like the deadline
 * sweep, so deliveries go on after Redis lost every key. Several rounds may run at once (a slow
 * merchant endpoint does not hold up the others); the claim hands them disjoint deliveries.
 */
@Processor(WEBHOOKS_QUEUE, { concurrency: 4, autorun: false })
export class WebhooksProcessor extends TickingHost {
  protected readonly logger = new Logger(WebhooksProcessor.name);

  readonly handlers: Record<typeof WEBHOOK_DELIVER_JOB, (job: Job) => Promise<unknown>> = {
    [WEBHOOK_DELIVER_JOB]: () => this.deliver(),
  };

  constructor(
    private readonly webhooks: WebhooksService,
    @InjectQueue(WEBHOOKS_QUEUE) queue: Queue,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    super(queue, config);
  }

  protected ticks(): Tick[] {
    return [{ name: WEBHOOK_DELIVER_JOB, idPrefix: 'webhooks', everyMs: this.everySecond }];
  }

  /** Rounds until fewer than a full batch was due. */
  async deliver(): Promise<DeliveryRound> {
    const total = await roundsUntilShort(
      WEBHOOK_BATCH,
      () => this.webhooks.deliverDue(WEBHOOK_BATCH),
      (r) => r.claimed,
    );
    if (total.claimed > 0) {
      this.logger.log(
        `webhooks: delivered ${total.delivered}, retrying ${total.retrying}, dead ${total.dead}`,
      );
    }
    return total;
  }
}
