import { STATS_JOBS } from '../stats/stats.jobs';
import { WEBHOOK_JOBS } from '../webhooks/webhook.jobs';
import { MAIL_JOBS } from '../mail/mail.jobs';
import { MAINTENANCE_JOBS } from '../outbox/outbox.jobs';
import { CHECKPOINT_JOBS } from '../trail/checkpoints/checkpoint.jobs';

/**
 * Every queue and job name, in one place, with its payload type. The worker checks at boot that
 * each job name has exactly one handler (see apps/worker/src/processors).
 */
export const DEADLINES_QUEUE = 'deadlines';

export const DEADLINE_KINDS = [
  'merchant_response',
  'resolution',
  'acceptance',
  'mediation',
  'settlement',
  'offer_expiry',
  'offer_reminder',
  'appeal_review',
] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

export const JOB_NAMES = {
  /** A delayed job per ticket deadline: re-read the ticket and act if still due. */
  deadlineCheck: 'deadline.check',
  /** Repeatable: find every overdue ticket in PostgreSQL (covers lost Redis jobs, dead workers). */
  deadlineSweep: 'deadline.sweep',
  /** A year's official calendar was loaded: recompute the open deadlines counted on an older basis. */
  deadlineRebase: 'deadline.rebase',
} as const;
export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES];

export const QUEUE_OF: Record<JobName, string> = {
  'deadline.check': DEADLINES_QUEUE,
  'deadline.sweep': DEADLINES_QUEUE,
  'deadline.rebase': DEADLINES_QUEUE,
};

/** Every job name of every queue (job name → queue): what the worker's boot check enforces. */
export const ALL_JOBS: Record<string, string> = {
  ...QUEUE_OF,
  ...STATS_JOBS,
  ...WEBHOOK_JOBS,
  ...MAIL_JOBS,
  ...MAINTENANCE_JOBS,
  ...CHECKPOINT_JOBS,
};

export interface JobPayloads {
  'deadline.check': { complaintId: string; kind: DeadlineKind; dueAt: string };
  'deadline.sweep': Record<string, never>;
  'deadline.rebase': { year: number; version: number };
}
export type JobOf<N extends JobName> = JobPayloads[N];

/** Deterministic id: one delayed job per (ticket, deadline kind, due time), however often scheduled. */
export function deadlineJobId(complaintId: string, kind: DeadlineKind, dueAt: Date): string {
  return `${complaintId}.${kind}.${dueAt.getTime()}`;
}

/** A handler map of one queue must cover exactly that queue's job names. */
export function assertHandlers(queue: string, handlers: Record<string, unknown>): void {
  const expected = Object.keys(ALL_JOBS)
    .filter((n) => ALL_JOBS[n] === queue)
    .sort();
  const actual = Object.keys(handlers).sort();
  const missing = expected.filter((n) => !actual.includes(n));
  const unknown = actual.filter((n) => !expected.includes(n));
  if (missing.length || unknown.length) {
    throw new Error(
      `queue ${queue}: job names without a processor: [${missing.join(', ')}]; processors for unknown jobs: [${unknown.join(', ')}]`,
    );
  }
}

/** Exactly one processor per job name across all queues' handler maps. */
export function assertOneProcessorPerJob(
  handlerMaps: Record<string, Record<string, unknown>>,
): void {
  const seen = new Map<string, string>();
  for (const [queue, handlers] of Object.entries(handlerMaps)) {
    for (const name of Object.keys(handlers)) {
      if (seen.has(name))
        throw new Error(`job ${name} has two processors (${seen.get(name)} and ${queue})`);
      seen.set(name, queue);
    }
    assertHandlers(queue, handlers);
  }
  const missing = Object.keys(ALL_JOBS).filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`job names without a processor: ${missing.join(', ')}`);
}
