import { WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { HejieConfig } from '@app/shared';

/** A recurring round: job `name` enqueued every `everyMs`, with job id `<idPrefix>-<bucket>`. */
export interface Tick {
  name: string;
  idPrefix: string;
  everyMs: number;
}

/**
 * A BullMQ processor whose work is a recurring round (the deadline sweep, the statistics drain,
 * webhook deliveries) plus its job table. Each worker process enqueues one job per time bucket
 * from a local timer; the bucket's job id makes the workers agree on a single round. Driven by a
 * local timer rather than a scheduler stored in Redis, so the rounds go on after Redis lost
 * every key.
 *
 * At bootstrap: `skipReason()` (a feature switched off) logs and stops there; otherwise the
 * BullMQ worker starts when this process runs the queue (`runHere`), then `afterRun()`
 * (a feature checked only where the queue runs) may still stop it, then `ticks()` start.
 */
export abstract class TickingHost
  extends WorkerHost
  implements OnApplicationBootstrap, OnModuleDestroy
{
  protected abstract readonly logger: Logger;
  /** Job name → handler; the boot check requires exactly one processor per job name. */
  abstract readonly handlers: Record<string, (job: Job) => Promise<unknown>>;
  private readonly timers: NodeJS.Timeout[] = [];

  protected constructor(
    protected readonly queue: Queue,
    protected readonly config: HejieConfig,
  ) {
    super();
  }

  /** The rounds this processor enqueues. */
  protected abstract ticks(): Tick[];

  /** A reason not to start at all (logged), checked before the queue's worker runs. */
  protected skipReason(): string | null {
    return null;
  }

  /** Work at boot in the process that runs the queue; false: no rounds. */
  protected afterRun(): boolean {
    return true;
  }

  /** Every second, or every SWEEP_INTERVAL when shorter (deliveries, drains). */
  protected get everySecond(): number {
    return Math.min(1000, this.config.sweepIntervalMs);
  }

  onApplicationBootstrap(): void {
    const skip = this.skipReason();
    if (skip) {
      this.logger.log(skip);
      return;
    }
    if (!this.runHere()) return;
    if (!this.afterRun()) return;
    for (const tick of this.ticks()) this.startTicking(tick);
  }

  /**
   * Processors are declared with `autorun: false`: this starts the BullMQ worker when this
   * process runs the queue (WORKER_QUEUES unset, or naming it), so deliveries can run in a process
   * of their own, apart from the deadline sweep. False when the queue is left to another process.
   */
  private runHere(): boolean {
    const { queue } = this;
    const workerQueues = this.config.workerQueues;
    if (workerQueues && !workerQueues.includes(queue.name)) {
      this.logger.log(`queue ${queue.name} is not run by this process (WORKER_QUEUES)`);
      return false;
    }
    this.worker.run().catch((e: unknown) => this.logger.error(`queue ${queue.name}: ${String(e)}`));
    return true;
  }

  /** Enqueues `name` now and every `everyMs`, with job id `<idPrefix>-<bucket>`. */
  private startTicking({ name, idPrefix, everyMs }: Tick): void {
    const enqueue = () => {
      const bucket = Math.floor(Date.now() / everyMs);
      this.queue
        .add(name, {}, { jobId: `${idPrefix}-${bucket}`, removeOnComplete: 100, removeOnFail: 100 })
        .catch((e: unknown) => this.logger.warn(`could not enqueue ${name}: ${String(e)}`));
    };
    enqueue();
    this.timers.push(setInterval(enqueue, everyMs));
  }

  onModuleDestroy(): void {
    for (const timer of this.timers) clearInterval(timer);
  }

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name];
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    return handler(job);
  }
}
