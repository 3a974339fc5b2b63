import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import {
  CalendarService,
  DEADLINES_QUEUE,
  EscalationUseCase,
  JOB_NAMES,
  RebaseGate,
  RegulatorUseCase,
  SettlementService,
} from '@app/complaints';
import type { JobName, JobOf } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { TickingHost } from './ticking-host';
import type { Tick } from './ticking-host';
import { InFlightLimit, roundsUntilShort } from './rounds';

/** Tickets handled per sweep transaction. */
export const SWEEP_BATCH = 2000;
/**
 * Sweeps running at once in one process. A sweep job comes every SWEEP_INTERVAL while a long
 * sweep (200,000 tickets falling due together) still runs, and each running sweep holds its
 * batch: the rows read whole, the change writer's parameters, the answer. At the queue's
 * concurrency (8) that took the worker's heap to 150 MB and its RSS past 280 MB; two keep
 * PostgreSQL busy while this process prepares the next batch. A job beyond them returns at once:
 * the running sweeps go on until nothing overdue is left unlocked.
 */
export const SWEEPS_AT_ONCE = 2;
/** Tickets whose deadline is recomputed per transaction after a calendar load. */
export const REBASE_BATCH = 500;

/**
 * Deadlines: a delayed job per ticket deadline for promptness, and a repeatable sweep over
 * PostgreSQL for correctness. Both re-read the ticket under its row lock before acting.
 */
@Processor(DEADLINES_QUEUE, { concurrency: 8, autorun: false })
export class DeadlinesProcessor extends TickingHost implements OnApplicationShutdown {
  protected readonly logger = new Logger(DeadlinesProcessor.name);

  readonly handlers: {
    [N in Extract<JobName, `deadline.${string}`>]: (job: Job<JobOf<N>>) => Promise<unknown>;
  } = {
    'deadline.check': (job) => this.check(job.data),
    'deadline.sweep': () => this.sweepJob(),
    'deadline.rebase': () => this.rebase(),
  };

  constructor(
    private readonly escalation: EscalationUseCase,
    private readonly regulator: RegulatorUseCase,
    private readonly settlement: SettlementService,
    private readonly calendar: CalendarService,
    @InjectQueue(DEADLINES_QUEUE) queue: Queue,
    @Inject(HEJIE_CONFIG) config: HejieConfig,
  ) {
    super(queue, config);
  }

  /** One sweep per SWEEP_INTERVAL time bucket, whichever worker enqueues it first. */
  protected ticks(): Tick[] {
    return [
      { name: JOB_NAMES.deadlineSweep, idPrefix: 'sweep', everyMs: this.config.sweepIntervalMs },
    ];
  }

  /** After Nest closed the BullMQ worker (active jobs finished) and before the pool closes. */
  onApplicationShutdown(signal?: string): void {
    this.logger.log(`worker stopped${signal ? ` (${signal})` : ''}`);
  }

  private async check(data: JobOf<'deadline.check'>): Promise<unknown> {
    switch (data.kind) {
      case 'merchant_response':
      case 'resolution':
        return { escalated: await this.escalation.escalateIfDue(data.complaintId) };
      case 'mediation':
        return { terminated: await this.regulator.terminateMediationIfDue(data.complaintId) };
      case 'acceptance':
      case 'appeal_review':
        // A flag, not a transition: the view shows acceptanceOverdue / appealReviewOverdue from
        // acceptBy / reviewBy, and /metrics counts them per office.
        return { flagged: true };
      case 'settlement':
        return { settlement: await this.settlement.settleDueIfDue(data.complaintId) };
      case 'offer_expiry':
        return { expired: await this.settlement.expireOfferIfDue(data.complaintId) };
      case 'offer_reminder':
        return { reminded: await this.settlement.remindOfferIfDue(data.complaintId) };
    }
  }

  /**
   * Recomputes the running deadlines counted on an estimate or an older calendar version
   * (RegulatorUseCase.rebaseBatch), in batches until none is left unlocked. Enqueued when a
   * year's notice is loaded; sweeps run it too while RebaseGate says so (a lost job, a stale
   * snapshot in another process, the bases the migration backfilled).
   */
  async rebase(): Promise<{ changed: number }> {
    const { changed } = await roundsUntilShort(
      REBASE_BATCH,
      () => this.regulator.rebaseBatch(REBASE_BATCH),
      (r) => r.changed,
    );
    if (changed) this.logger.log(`calendar: recomputed ${changed} deadline(s) on the new calendar`);
    return { changed };
  }

  private readonly rebaseGate = new RebaseGate();

  private async calendarChores(): Promise<void> {
    await this.calendar.warnHorizon();
    const { revision } = await this.calendar.snapshot(true);
    if (!this.rebaseGate.due(revision, Date.now())) return;
    const { changed } = await this.rebase();
    this.rebaseGate.done(revision, changed, Date.now());
  }

  private readonly sweeps = new InFlightLimit(SWEEPS_AT_ONCE);

  /** The `deadline.sweep` job: a sweep, unless SWEEPS_AT_ONCE already run in this process. */
  async sweepJob(): Promise<{ escalated: number; terminated: number } | { skipped: string }> {
    const done = await this.sweeps.tryRun(() => this.sweep());
    return done ?? { skipped: `${SWEEPS_AT_ONCE} sweeps already running in this process` };
  }

  /** Batches until nothing overdue is left unlocked; other workers take the locked rows. */
  async sweep(): Promise<{ escalated: number; terminated: number }> {
    // First the calendar's chores (a few ms: a deadline moved by a new notice must not be
    // enforced on its old date); a failure is logged and retried next sweep, never blocking it.
    await this.calendarChores().catch((e: unknown) =>
      this.logger.error(`calendar rebase failed: ${String(e)}`),
    );
    const total = { escalated: 0, terminated: 0 };
    // Each batch's deadline jobs go to Redis while the next batch runs; all are awaited below.
    const scheduled: Promise<void>[] = [];
    for (;;) {
      const r = await this.escalation.sweepBatch(SWEEP_BATCH);
      scheduled.push(r.scheduled);
      total.escalated += r.escalated;
      total.terminated += r.terminated;
      // A batch that was not full found nothing more overdue and unlocked.
      if (r.escalated + r.terminated < SWEEP_BATCH) break;
    }
    // Settlements (refunds that cover, settleBy), offer expiry and reminders.
    const s = await this.settlement.sweep(SWEEP_BATCH);
    total.escalated += s.escalated;
    if (total.escalated + total.terminated > 0) {
      this.logger.log(
        `sweep: escalated ${total.escalated}, terminated ${total.terminated} mediation(s)`,
      );
    }
    await Promise.all(scheduled);
    return total;
  }
}
