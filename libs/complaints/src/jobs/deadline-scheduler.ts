import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { CLOCK } from '@app/shared';
import type { Clock } from '@app/shared';
import { Inject } from '@nestjs/common';
import { DEADLINES_QUEUE, DeadlineKind, JOB_NAMES, JobOf, deadlineJobId } from './jobs';

export interface Deadline {
  complaintId: string;
  kind: DeadlineKind;
  dueAt: Date;
}

/**
 * Deadlines whose job would only flag the ticket (DeadlinesProcessor answers `{ flagged: true }`
 * and changes nothing): the view and /metrics derive acceptanceOverdue / appealReviewOverdue from
 * accept_by / review_by. No job is scheduled for them — each was a delayed job in Redis per
 * escalated ticket, a quarter of the sweep's worker CPU and every worker's Redis round trips
 * (issue 16). The processor still answers such jobs already queued.
 */
export const FLAG_ONLY_DEADLINES: ReadonlySet<DeadlineKind> = new Set<DeadlineKind>([
  'acceptance',
  'appeal_review',
]);

/**
 * A new ticket's deadline jobs: the merchant's response and the resolution. Scheduled by the
 * outbox drain when it takes the ticket's 'created' row (StatsService.drainBatch), not by the
 * creating request.
 */
export function newTicketDeadlines(t: {
  complaintId: string;
  merchantRespondBy: Date;
  resolveBy: Date;
}): Deadline[] {
  return [
    { complaintId: t.complaintId, kind: 'merchant_response', dueAt: t.merchantRespondBy },
    { complaintId: t.complaintId, kind: 'resolution', dueAt: t.resolveBy },
  ];
}

/**
 * Promptness: a delayed job per deadline. Correctness does not depend on it (the sweep finds
 * every overdue ticket in PostgreSQL), so a Redis hiccup is logged, never surfaced to the user.
 */
@Injectable()
export class DeadlineScheduler {
  private readonly logger = new Logger(DeadlineScheduler.name);

  constructor(
    @InjectQueue(DEADLINES_QUEUE) private readonly queue: Queue,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async schedule(all: Deadline[]): Promise<void> {
    const deadlines = all.filter((d) => !FLAG_ONLY_DEADLINES.has(d.kind));
    if (!deadlines.length) return;
    const now = this.clock.now().getTime();
    try {
      await withTimeout(
        this.queue.addBulk(
          deadlines.map((d) => ({
            name: JOB_NAMES.deadlineCheck,
            data: {
              complaintId: d.complaintId,
              kind: d.kind,
              dueAt: d.dueAt.toISOString(),
            } satisfies JobOf<'deadline.check'>,
            opts: {
              jobId: deadlineJobId(d.complaintId, d.kind, d.dueAt),
              // A few ms late rather than early: the processor re-checks "due" against the clock.
              delay: Math.max(0, d.dueAt.getTime() - now + 50),
              attempts: 5,
              backoff: { type: 'exponential', delay: 1000 },
              removeOnComplete: 1000,
              removeOnFail: 5000,
            },
          })),
        ),
        2000,
      );
    } catch (e) {
      this.logger.warn(
        `could not schedule ${deadlines.length} deadline job(s); the sweep will catch them: ${String(e)}`,
      );
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
