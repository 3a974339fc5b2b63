import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { STATS_QUEUE, StatsService } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';
import type { Tick } from './ticking-host';

/**
 * Statistics rollups: drains the outbox's 'stats' rows (exactly once, see StatsService). Runs at
 * least every second, or every SWEEP_INTERVAL when shorter, from a local timer with a
 * time-bucket job id like the deadline sweep.
 */
@Processor(STATS_QUEUE, { concurrency: 1, autorun: false })
export class StatsProcessor extends TickingHost {
  protected readonly logger = new Logger(StatsProcessor.name);

  readonly handlers: Record<'stats.drain', (job: Job) => Promise<unknown>> = {
    'stats.drain': () => this.drain(),
  };

  constructor(
    private readonly stats: StatsService,
    @InjectQueue(STATS_QUEUE) queue: Queue,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    super(queue, config);
  }

  protected ticks(): Tick[] {
    return [{ name: 'stats.drain', idPrefix: 'stats', everyMs: this.everySecond }];
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
