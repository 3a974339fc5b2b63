import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { CHECKPOINTS_QUEUE, CheckpointsService } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';
import type { Tick } from './ticking-host';

/**
 * Trail checkpoints (API.md "Checkpoints"), only with TRAIL_SIGNING_KEY: one round per
 * CHECKPOINT_INTERVAL time bucket. Every worker enqueues the bucket's job (same job id, so
 * BullMQ keeps one); the database makes it exactly one checkpoint per bucket whatever happens
 * (advisory lock + unique bucket, see createCheckpoint).
 */
@Processor(CHECKPOINTS_QUEUE, { concurrency: 1, autorun: false })
export class CheckpointsProcessor extends TickingHost {
  protected readonly logger = new Logger(CheckpointsProcessor.name);

  readonly handlers: Record<'trail.checkpoint', (job: Job) => Promise<unknown>> = {
    'trail.checkpoint': async () => {
      const made = await this.checkpoints.runOnce();
      return made ? { seq: made.seq, size: made.size, root: made.root } : { skipped: true };
    },
  };

  constructor(
    private readonly checkpoints: CheckpointsService,
    @InjectQueue(CHECKPOINTS_QUEUE) queue: Queue,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    super(queue, config);
  }

  protected afterRun(): boolean {
    if (!this.checkpoints.enabled) this.logger.log('TRAIL_SIGNING_KEY unset: no trail checkpoints');
    return this.checkpoints.enabled;
  }

  protected ticks(): Tick[] {
    return [
      {
        name: 'trail.checkpoint',
        idPrefix: 'checkpoint',
        everyMs: this.config.checkpointIntervalMs,
      },
    ];
  }
}
