import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { STATS_QUEUE, StatsService } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';

/**
 * Statistics rollups: drains the outbox's 'stats' rows (exactly once, see StatsService). Runs at
 * least every second, or every SWEEP_INTERVAL when shorter, from a local timer with a
 * time-bucket job id like the deadline sweep.
 */
@Processor(STATS_QUEUE, { concurrency: 1 })
export class StatsProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(StatsProcessor.name);
  private timer?: NodeJS.Timeout;

  readonly handlers: Record<'stats.drain', (job: Job) => Promise<unknown>> = {
    'stats.drain': () => this.drain(),
  };

  constructor(
    private readonly stats: StatsService,
    @InjectQueue(STATS_QUEUE) private readonly queue: Queue,
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
          'stats.drain',
          {},
          { jobId: `stats-${bucket}`, removeOnComplete: 100, removeOnFail: 100 },
        )
        .catch((e: unknown) => this.logger.warn(`could not enqueue the stats drain: ${String(e)}`));
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

  async drain(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const n = await this.stats.drainBatch(1000);
        total += n;
        if (n === 0) break;
      }
    } catch (e) {
      // The failed batch rolled back (its rows stay pending): the next drain counts them.
      this.logger.error(`stats: drain failed after ${total} events: ${String(e)}`);
      throw e;
    }
    if (total > 0) this.logger.log(`stats: drained ${total} events`);
    return total;
  }
}
