import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import {
  Inject,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
} from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { ComplaintsService, DEADLINES_QUEUE, JOB_NAMES } from '@app/complaints';
import type { JobName, JobOf } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';

/** Tickets handled per sweep transaction. */
export const SWEEP_BATCH = 500;

/**
 * Deadlines: a delayed job per ticket deadline for promptness, and a repeatable sweep over
 * PostgreSQL for correctness. Both re-read the ticket under its row lock before acting.
 */
@Processor(DEADLINES_QUEUE, { concurrency: 8 })
export class DeadlinesProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger(DeadlinesProcessor.name);

  readonly handlers: {
    [N in Extract<JobName, `deadline.${string}`>]: (job: Job<JobOf<N>>) => Promise<unknown>;
  } = {
    'deadline.check': (job) => this.check(job.data),
    'deadline.sweep': () => this.sweep(),
  };

  constructor(
    private readonly complaints: ComplaintsService,
    @InjectQueue(DEADLINES_QUEUE) private readonly queue: Queue,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {
    super();
  }

  private timer?: NodeJS.Timeout;

  /**
   * Every worker enqueues one sweep per SWEEP_INTERVAL time bucket; the bucket's job id makes
   * the workers agree on a single sweep. Driven by a local timer rather than a scheduler stored
   * in Redis, so sweeps go on even after Redis lost every key.
   */
  onApplicationBootstrap(): void {
    const every = this.config.sweepIntervalMs;
    const enqueue = () => {
      const bucket = Math.floor(Date.now() / every);
      this.queue
        .add(
          JOB_NAMES.deadlineSweep,
          {},
          { jobId: `sweep-${bucket}`, removeOnComplete: 100, removeOnFail: 100 },
        )
        .catch((e: unknown) => this.logger.warn(`could not enqueue the sweep: ${String(e)}`));
    };
    enqueue();
    this.timer = setInterval(enqueue, every);
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** After Nest closed the BullMQ worker (active jobs finished) and before the pool closes. */
  onApplicationShutdown(signal?: string): void {
    this.logger.log(`worker stopped${signal ? ` (${signal})` : ''}`);
  }

  async process(job: Job): Promise<unknown> {
    const handler = (this.handlers as Record<string, (job: Job) => Promise<unknown>>)[job.name];
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    return handler(job);
  }

  private async check(data: JobOf<'deadline.check'>): Promise<unknown> {
    switch (data.kind) {
      case 'merchant_response':
      case 'resolution':
        return { escalated: await this.complaints.escalateIfDue(data.complaintId) };
      case 'mediation':
        return { terminated: await this.complaints.terminateMediationIfDue(data.complaintId) };
      case 'acceptance':
        // Acceptance is a flag, not a transition: the queue shows acceptanceOverdue from acceptBy.
        return { flagged: true };
    }
  }

  /** Batches until nothing overdue is left unlocked; other workers take the locked rows. */
  async sweep(): Promise<{ escalated: number; terminated: number }> {
    const total = { escalated: 0, terminated: 0 };
    for (;;) {
      const r = await this.complaints.sweepBatch(SWEEP_BATCH);
      total.escalated += r.escalated;
      total.terminated += r.terminated;
      if (r.escalated + r.terminated === 0) break;
    }
    if (total.escalated + total.terminated > 0) {
      this.logger.log(
        `sweep: escalated ${total.escalated}, terminated ${total.terminated} mediation(s)`,
      );
    }
    return total;
  }
}
