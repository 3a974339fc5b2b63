import 'reflect-metadata';
import { getQueueToken } from '@nestjs/bullmq';
import type { LoggerService } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import type { Job, Queue } from 'bullmq';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { DeadlinesProcessor } from '../../apps/worker/src/processors/deadlines.processor';
import { StatsProcessor } from '../../apps/worker/src/processors/stats.processor';
import { WebhooksProcessor } from '../../apps/worker/src/processors/webhooks.processor';
import { CheckpointsProcessor } from '../../apps/worker/src/processors/checkpoints.processor';
import { MailProcessor } from '../../apps/worker/src/processors/mail.processor';
import { DEADLINES_QUEUE } from '../../libs/complaints/src/jobs/jobs';
import { CLOCK } from '../../libs/shared/src/clock';
import type { Clock } from '../../libs/shared/src/clock';
import { HEJIE_CONFIG } from '../../libs/shared/src/config/config.module';
import { loadConfig } from '../../libs/shared/src/config/hejie-config';

export interface TestWorker {
  /** One deadline sweep (DeadlinesProcessor.sweep), as the repeatable job runs it. */
  sweep(): ReturnType<DeadlinesProcessor['sweep']>;
  /** The `deadline.sweep` job as BullMQ runs it (DeadlinesProcessor.sweepJob: at most SWEEPS_AT_ONCE at once). */
  sweepJob(): ReturnType<DeadlinesProcessor['sweepJob']>;
  /**
   * Runs once each delayed `deadline.check` job of the queue that is due by the clock (its
   * `dueAt` ≤ now), as BullMQ would when its delay ran out, and removes it. The job's result
   * for each, in `dueAt` order.
   */
  runDueJobs(): Promise<{ id: string; data: unknown; result: unknown }[]>;
  /** The delayed `deadline.check` jobs waiting in the queue. */
  delayedJobs(): Promise<Job[]>;
  /** One statistics drain (StatsProcessor.drain). */
  drainStats(): Promise<number>;
  /** One webhook delivery round (WebhooksProcessor.deliver). */
  deliverWebhooks(): ReturnType<WebhooksProcessor['deliver']>;
  /**
   * One merchant e-mail round (MailProcessor.round): the 24-hour reminders due by the clock are
   * queued, then every due mail of the outbox is sent. Needs SMTP_URL (env or process.env).
   */
  mailRound(): ReturnType<MailProcessor['round']>;
  /** One trail checkpoint round (the `trail.checkpoint` job): what it made, or `{ skipped }`. */
  checkpoint(): Promise<unknown>;
  /** What was logged through Nest's Logger since this worker started, one line per message. */
  log(): string;
  close(): Promise<void>;
}

/**
 * Keeps the lines instead of printing them. Nest's Logger is one per process: while this worker
 * lives, the API's Nest logs (if any) land here too.
 */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private keep(level: string, message: unknown, context: unknown[]) {
    this.lines.push(`${level} ${String(context.at(-1) ?? '')}: ${String(message)}`);
  }
  log = (m: unknown, ...c: unknown[]) => this.keep('log', m, c);
  error = (m: unknown, ...c: unknown[]) => this.keep('error', m, c);
  warn = (m: unknown, ...c: unknown[]) => this.keep('warn', m, c);
  debug = (m: unknown, ...c: unknown[]) => this.keep('debug', m, c);
  verbose = (m: unknown, ...c: unknown[]) => this.keep('verbose', m, c);
}

/**
 * The worker's module in this process, on the test's clock, with no BullMQ worker running and
 * no timer: nothing happens until the test calls a round. Deadline tests advance the clock and
 * then run the sweep or the due job once, instead of waiting on the wall clock. `env` overrides
 * configuration for this worker only (e.g. WEBHOOK_BACKOFF). The real process, with its timers
 * and queues, is test/helpers/worker-process.ts (spawnWorker): keep it for tests of that wiring.
 */
export async function startTestWorker(
  clock: Clock,
  env: Record<string, string> = {},
): Promise<TestWorker> {
  const logger = new CapturingLogger();
  const moduleRef: TestingModule = await Test.createTestingModule({ imports: [WorkerModule] })
    .setLogger(logger)
    .overrideProvider(CLOCK)
    .useValue(clock)
    // No queue is run here (WORKER_QUEUES names none): no BullMQ worker, no ticking timer.
    .overrideProvider(HEJIE_CONFIG)
    .useValue({ ...loadConfig({ ...process.env, ...env }), workerQueues: [] })
    .compile();
  await moduleRef.init();
  const deadlines = moduleRef.get(DeadlinesProcessor);
  const queue = moduleRef.get<Queue>(getQueueToken(DEADLINES_QUEUE));
  const delayedJobs = async () =>
    (await queue.getDelayed()).filter((j) => j.name === 'deadline.check');
  return {
    sweep: () => deadlines.sweep(),
    sweepJob: () => deadlines.sweepJob(),
    delayedJobs,
    async runDueJobs() {
      const now = clock.now().getTime();
      const due = (await delayedJobs())
        .filter((j) => new Date((j.data as { dueAt: string }).dueAt).getTime() <= now)
        .sort((a, b) => Date.parse(a.data.dueAt) - Date.parse(b.data.dueAt));
      const ran = [];
      for (const job of due) {
        ran.push({ id: job.id!, data: job.data, result: await deadlines.process(job) });
        await job.remove();
      }
      return ran;
    },
    drainStats: () => moduleRef.get(StatsProcessor).drain(),
    deliverWebhooks: () => moduleRef.get(WebhooksProcessor).deliver(),
    mailRound: () => moduleRef.get(MailProcessor).round(),
    checkpoint: () => moduleRef.get(CheckpointsProcessor).handlers['trail.checkpoint']({} as Job),
    log: () => logger.lines.join('\n'),
    close: () => moduleRef.close(),
  };
}
