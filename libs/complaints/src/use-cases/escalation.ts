import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CLOCK } from '@app/shared';
import type { Actor, Clock } from '@app/shared';
import { DirectoryService } from '@app/directory';
import { assertConsumerMayEscalate, escalationFactsOf } from '../lifecycle';
import type { ComplaintRow } from '../complaint.row';
import type { EscalationReason, TicketView } from '../complaint.types';
import { DeadlineScheduler } from '../jobs/deadline-scheduler';
import { CalendarService } from '../calendar/calendar.service';
import type { DeadlineBasis } from '../calendar/deadlines';
import { RulesService } from '../rules/rules.service';
import type { TicketRules } from '../rules/rules.service';
import { ChangeWriter } from '../changes/change-writer';
import { TicketTransitions } from '../changes/transitions';
import { SWEEPER, allowedNext, inBatch, planChange, withBasis } from '../changes/change';
import type { BatchContext, Change } from '../changes/change';
import { DUE_ESCALATIONS, MEDIATION_TIMEOUT, dueEscalation } from '../policy/due-rules';
import type { DueEscalation } from '../policy/due-rules';
import { ReadingUseCase } from './reading';
import { RegulatorUseCase } from './regulator';
import { acceptBy, lapsePendingOffers } from './shared';

/** One ticket to escalate, with why. */
export interface EscalationItem {
  t: ComplaintRow;
  reason: EscalationReason;
  consumerReason: string | null;
}

/**
 * Escalation to the regulator: the consumer's tap, the delayed job at a deadline, and the
 * sweep's set-based batches. One preparation (escalations: offers lapse, office routed, rule set
 * and acceptBy) and one write (the change writer) for all three; a single ticket is a batch of one.
 */
@Injectable()
export class EscalationUseCase {
  private readonly logger = new Logger(EscalationUseCase.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly directory: DirectoryService,
    private readonly scheduler: DeadlineScheduler,
    private readonly calendar: CalendarService,
    private readonly rules: RulesService,
    private readonly writer: ChangeWriter,
    private readonly transitions: TicketTransitions,
    private readonly reading: ReadingUseCase,
    private readonly regulator: RegulatorUseCase,
  ) {}

  /**
   * The consumer's "one more tap". `alongside` runs in the same transaction after the
   * escalation (the complainant's details given with it: both are written, or neither).
   */
  async escalate(
    id: string,
    actor: Actor,
    reason: string,
    alongside?: (tx: EntityManager) => Promise<void>,
  ): Promise<TicketView> {
    const { deadlines } = await inBatch(this.db, async (ctx) => {
      await this.transitions.transition(
        id,
        actor,
        'escalate',
        async (t, now, ltx) => {
          assertConsumerMayEscalate(escalationFactsOf(t, now));
          return this.escalation(t, now, ltx, 'consumer_request', reason);
        },
        ctx,
      );
      if (alongside) await alongside(ctx.tx);
    });
    await this.scheduler.schedule(deadlines);
    return this.reading.view(id, actor, this.clock.now());
  }

  /**
   * The worker's escalation of a ticket whose deadline passed (policy/due-rules.ts). Re-checks
   * under the row lock; returns false (and changes nothing) when the ticket is no longer due —
   * another worker or the consumer got there first, or the merchant answered in time.
   */
  async escalateIfDue(id: string, outer?: BatchContext): Promise<EscalationReason | false> {
    let outcome: EscalationReason | false = false;
    let rule: DueEscalation | undefined;
    await this.transitions.transition(
      id,
      SWEEPER,
      (t) => {
        rule = dueEscalation(t, this.clock.now());
        return rule?.action ?? null;
      },
      async (t, now, tx) => {
        if (!rule) throw new Error('escalateIfDue: no rule decided under the lock');
        outcome = rule.reason;
        return this.escalation(t, now, tx, outcome, null);
      },
      outer,
    );
    return outcome;
  }

  /**
   * One batch of the sweep: overdue tickets locked with FOR UPDATE SKIP LOCKED (so parallel
   * workers take disjoint rows) and handled in this one transaction — escalations set-based
   * (escalateLocked), mediation time limits ticket by ticket. Returns once committed, with how
   * many tickets changed (fewer than `limit`: nothing overdue was left unlocked) and `scheduled`,
   * the deadline jobs' addBulk started after commit (it never rejects): the sweep goes on with
   * its next batch meanwhile and awaits them at its end.
   */
  async sweepBatch(
    limit: number,
  ): Promise<{ escalated: number; terminated: number; scheduled: Promise<void> }> {
    const now = this.clock.now();
    const { result, deadlines } = await inBatch(this.db, async (ctx) => {
      const { tx } = ctx;
      // Whole rows, locked and checked against the due rule in the same statement
      // (PostgreSQL re-checks a row that changed before the lock): nothing to re-read.
      const due: { t: ComplaintRow; rule: DueEscalation }[] = [];
      for (const rule of DUE_ESCALATIONS) {
        if (due.length >= limit) break;
        const rows: ComplaintRow[] = await tx.query(
          `SELECT * FROM complaints WHERE ${rule.where}
            ORDER BY ${rule.deadline} LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now, limit - due.length],
        );
        for (const t of rows) due.push({ t, rule });
      }
      const escalated = await this.escalateLocked(ctx, due, now);
      let terminated = 0;
      const mediation: { id: string }[] =
        limit > escalated
          ? await tx.query(
              `SELECT id FROM complaints WHERE ${MEDIATION_TIMEOUT.where}
                ORDER BY ${MEDIATION_TIMEOUT.deadline} LIMIT $2 FOR UPDATE SKIP LOCKED`,
              [now, limit - escalated],
            )
          : [];
      for (const { id } of mediation) {
        if (await this.regulator.terminateMediationIfDue(id, ctx)) terminated++;
      }
      return { escalated, terminated };
    });
    // Started on the next turn of the event loop: the caller first sees the result (and logs it).
    const scheduled = new Promise<void>((go) => setImmediate(go)).then(() =>
      this.scheduler.schedule(deadlines),
    );
    return { ...result, scheduled };
  }

  /**
   * The sweep's escalations, set-based: the same preparation as escalateIfDue's (escalations)
   * and the same write (the change writer), for the whole batch at once. `due` are rows this
   * transaction locked and found due; the events chain from them.
   */
  async escalateLocked(
    ctx: BatchContext,
    due: readonly { t: ComplaintRow; rule: DueEscalation }[],
    now: Date,
  ): Promise<number> {
    if (!due.length) return 0;
    const prepared = await this.escalations(
      ctx.tx,
      due.map(({ t, rule }) => ({ t, reason: rule.reason, consumerReason: null })),
      now,
    );
    const changes = due.map(({ t, rule }, i) => {
      const next = allowedNext(t.status, rule.action, 'system');
      return planChange(t, next, prepared[i], SWEEPER, now);
    });
    await this.writer.apply(ctx.tx, changes, { rows: false });
    for (const c of prepared) ctx.deadlines.push(...(c.deadlines ?? []));
    return changes.length;
  }

  /** @internal The change of one escalation (also settlement/: disputes, unfulfilled settlements). */
  async escalation(
    t: ComplaintRow,
    now: Date,
    tx: EntityManager,
    reason: EscalationReason,
    consumerReason: string | null,
  ): Promise<Change> {
    const [change] = await this.escalations(tx, [{ t, reason, consumerReason }], now);
    return change;
  }

  /**
   * What escalating these tickets at `now` sets and records: their pending offers lapse (one
   * statement), each goes to the office covering its region (null: none, it waits unassigned)
   * under that office's rule set, with acceptBy counted once per rule set.
   */
  async escalations(
    tx: EntityManager,
    items: readonly EscalationItem[],
    now: Date,
  ): Promise<Change[]> {
    const tickets = items.map(({ t }) => t);
    await lapsePendingOffers(tx, tickets, now);
    const offices = await this.directory.routeOffices(tickets.map((t) => t.region_code));
    const rulesOf = await this.rules.forOffices([...offices.values(), null]);
    const calendar = await this.calendar.snapshot();
    const acceptBySet = new Map<string, { at: Date; basis: DeadlineBasis }>();
    return items.map(({ t, reason, consumerReason }) => {
      const officeId = offices.get(t.region_code) ?? null;
      if (!officeId) {
        this.logger.warn(
          `no office covers region ${t.region_code}; ticket ${t.id} waits unassigned`,
        );
      }
      const rules = rulesOf.get(officeId) ?? rulesOf.get(null)!;
      let accept = acceptBySet.get(rules.ruleSet);
      if (!accept) {
        accept = acceptBy(calendar, now, rules);
        acceptBySet.set(rules.ruleSet, accept);
      }
      return escalationChange(t, now, reason, consumerReason, officeId, accept, rules);
    });
  }
}

/**
 * What an escalation sets and records, once it is decided where the ticket goes (`officeId`, null
 * when no office covers its region) and by when that office must decide (`accept`).
 */
function escalationChange(
  t: Pick<ComplaintRow, 'id' | 'deadline_basis'>,
  now: Date,
  reason: EscalationReason,
  consumerReason: string | null,
  officeId: string | null,
  accept: { at: Date; basis: DeadlineBasis },
  rules: TicketRules,
): Change {
  const acceptBy = accept.at;
  return {
    set: {
      pending_offer_id: null,
      office_id: officeId,
      escalated_at: now,
      escalation_reason: reason,
      accept_by: acceptBy,
      rule_set: rules.ruleSet,
      rule_limits: JSON.stringify(rules.limits),
      deadline_basis: withBasis(t, 'acceptBy', accept.basis),
    },
    event: {
      type: 'escalated',
      data: {
        reason,
        consumerReason,
        officeId,
        acceptBy: acceptBy.toISOString(),
        ruleSet: rules.ruleSet,
        acceptByBasis: accept.basis.basis,
      },
    },
    deadlines: [{ complaintId: t.id, kind: 'acceptance', dueAt: acceptBy }],
  };
}
