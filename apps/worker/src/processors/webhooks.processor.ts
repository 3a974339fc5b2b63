import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { WEBHOOKS_QUEUE, WEBHOOK_DELIVER_JOB, WebhooksService } from '@app/complaints';
import type { DeliveryRound } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';

/** Deliveries claimed (and sent concurrently) per round. */
export const WEBHOOK_BATCH = 50;

/**
 * Merchant webhooks: POSTs the due deliveries of the outbox. Runs every second (or every
 * SWEEP_INTERVAL when shorter) from a local timer with a time-bucket job id, like the deadline
 * sweep, so deliveries go on after Redis lost every key. Several rounds may run at once (a slow
 * merchant endpoint does not hold up the others); the claim hands them disjoint deliveries.
 */
@Processor(WEBHOOKS_QUEUE, { concurrency: 4 })
export class WebhooksProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(WebhooksProcessor.name);
  private timer?: NodeJS.Timeout;

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
    const every = Math.min(1000, this.config.sweepIntervalMs);
    const enqueue = () => {
      const bucket = Math.floor(Date.now() / every);
      this.queue
        .add(
          WEBHOOK_DELIVER_JOB,
          {},
          { jobId: `webhooks-${bucket}`, removeOnComplete: 100, removeOnFail: 100 },
        )
        .catch((e: unknown) =>
          this.logger.warn(`could not enqueue the webhook delivery: ${String(e)}`),
        );
    };
    enqueue();
    this.timer = setInterval(enqueue, every);
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async process(job: Job): Promise<unknown> {
    const handler = (this.handlers as Record<string, (job: Job) => Promise<unknown>>)[job.name];
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    return handler(job);
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
