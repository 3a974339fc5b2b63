import { WorkerHost } from '@nestjs/bullmq';
import { Logger, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';

/**
 * A BullMQ processor whose work is a recurring round (the deadline sweep, the statistics drain,
 * webhook deliveries) plus its job table. Each worker process enqueues one job per time bucket
 * from a local timer; the bucket's job id makes the workers agree on a single round. Driven by a
 * local timer rather than a scheduler stored in Redis, so the rounds go on after Redis lost
 * every key.
 */
export abstract class TickingHost extends WorkerHost implements OnModuleDestroy {
  protected abstract readonly logger: Logger;
  /** Job name → handler; the boot check requires exactly one processor per job name. */
  abstract readonly handlers: Record<string, (job: Job) => Promise<unknown>>;
  private readonly timers: NodeJS.Timeout[] = [];

  /**
   * Processors are declared with `autorun: false`: this starts the BullMQ worker when this
   * process runs the queue (WORKER_QUEUES unset, or naming it), so deliveries can run in a process
   * of their own, apart from the deadline sweep. False when the queue is left to another process.
   */
  protected runHere(queue: Queue, workerQueues: string[] | null): boolean {
    if (workerQueues && !workerQueues.includes(queue.name)) {
      this.logger.log(`queue ${queue.name} is not run by this process (WORKER_QUEUES)`);
      return false;
    }
    this.worker.run().catch((e: unknown) => this.logger.error(`queue ${queue.name}: ${String(e)}`));
    return true;
  }

  /** Enqueues `name` now and every `everyMs`, with job id `<idPrefix>-<bucket>`. */
  protected startTicking(queue: Queue, name: string, idPrefix: string, everyMs: number): void {
    const enqueue = () => {
      const bucket = Math.floor(Date.now() / everyMs);
      queue
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
