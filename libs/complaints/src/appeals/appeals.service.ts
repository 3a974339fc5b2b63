import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CLOCK, HEJIE_CONFIG, calendarFallbacks } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import { ComplaintsService } from '../complaints.service';
import type { Change } from '../complaints.service';
import type { ComplaintRow } from '../complaint.row';
import type { TicketView } from '../complaint.types';
import { computeAcceptBy, computeMediationEndBy } from '../lifecycle/sla-policy';
import type { AppealOutcome } from '../vocabulary';
import {
  appealDecisionAction,
  assertMayAppeal,
  assertMayDecideAppeal,
  computeReviewBy,
  ticketRuleSet,
  ticketRuleSetId,
} from './appeal-policy';

/**
 * Appeals (申诉, API.md "Appeals"): the consumer's one appeal of a `declined` or
 * `mediation_failed` decision, and its review by another officer. Each is one transition of
 * ComplaintsService (row lock, state table, guarded UPDATE, hash-chained event, outbox) with
 * the rules of appeal-policy.ts checked under the lock.
 */
@Injectable()
export class AppealsService {
  private readonly logger = new Logger(AppealsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly complaints: ComplaintsService,
  ) {}

  /** POST /v1/complaints/:id/appeal (consumer). */
  async appeal(id: string, actor: Actor, reason: string): Promise<TicketView> {
    await this.complaints.transition(id, actor, 'appeal', (t, now): Change => {
      const set = ticketRuleSet(t);
      assertMayAppeal(
        {
          status: t.status,
          decidedAt: t.decided_at ?? t.closed_at,
          appealedAt: t.appealed_at ?? null,
        },
        set,
        now,
      );
      const reviewBy = computeReviewBy(now, set, undefined, this.onFallback);
      return {
        set: {
          appealed_at: now,
          appeal_from: t.status,
          appeal_reason: reason,
          review_by: reviewBy,
          closed_at: null,
        },
        event: {
          type: 'appealed',
          data: {
            reason,
            decidedBy: t.decided_by ?? null,
            reviewBy: reviewBy.toISOString(),
            ruleSet: set.id,
          },
        },
        deadlines: [{ complaintId: id, kind: 'appeal_review', dueAt: reviewBy }],
      };
    });
    return this.complaints.view(id, actor, this.clock.now());
  }

  /** POST /v1/complaints/:id/appeal/decision (another regulator of the office, or admin). */
  async decide(
    id: string,
    actor: Actor,
    outcome: AppealOutcome,
    note: string,
  ): Promise<TicketView> {
    await this.complaints.transition(
      id,
      actor,
      // The row of the state table for this outcome and the appealed decision; a ticket that is
      // not appealed is refused by the table (409 INVALID_TRANSITION).
      (t) => appealDecisionAction(outcome, t.appeal_from ?? 'declined'),
      (t, now): Change => {
        assertMayDecideAppeal(t.decided_by ?? null, actor.sub);
        const decision = {
          appeal_outcome: outcome,
          appeal_note: note,
          appeal_decided_by: actor.sub,
          appeal_decided_at: now,
        };
        const data = { outcome, note, appealed: t.appeal_from, officeId: t.office_id };
        if (outcome === 'upheld') {
          return {
            set: { ...decision, closed_at: now },
            event: { type: 'appeal_decided', data },
          };
        }
        const reopened = { ...decision, closed_at: null, decided_by: null, decided_at: null };
        if (t.appeal_from === 'declined') {
          const acceptBy = this.acceptBy(t, now);
          return {
            set: { ...reopened, accept_by: acceptBy, decline_reason: null, decline_detail: null },
            event: { type: 'appeal_decided', data: { ...data, acceptBy: acceptBy.toISOString() } },
            deadlines: [{ complaintId: id, kind: 'acceptance', dueAt: acceptBy }],
          };
        }
        const mediationEndBy = this.mediationEndBy(t, now);
        return {
          set: { ...reopened, mediation_end_by: mediationEndBy, mediation_outcome: null },
          event: {
            type: 'appeal_decided',
            data: { ...data, mediationEndBy: mediationEndBy.toISOString() },
          },
          deadlines: [{ complaintId: id, kind: 'mediation', dueAt: mediationEndBy }],
        };
      },
    );
    return this.complaints.view(id, actor, this.clock.now());
  }

  /** Appeals past reviewBy without a decision, per office (a metric; the view flags each). */
  async countReviewOverdue(
    now: Date = this.clock.now(),
  ): Promise<{ officeId: string | null; n: number }[]> {
    const rows: { office_id: string | null; n: string }[] = await this.db.query(
      `SELECT office_id, count(*) AS n FROM complaints
        WHERE status = 'appealed' AND review_by < $1 GROUP BY office_id`,
      [now],
    );
    return rows.map((r) => ({ officeId: r.office_id, n: Number(r.n) }));
  }

  /**
   * A new acceptance period after an overturned decline: the ticket's rule set; a ticket without
   * one (escalated before rule sets were stored) uses REGULATOR_ACCEPT_WORKDAYS, as escalation does.
   */
  private acceptBy(t: ComplaintRow, now: Date): Date {
    const set = ticketRuleSet(t);
    if (ticketRuleSetId(t) !== null) {
      if (set.acceptHours) return new Date(now.getTime() + set.acceptHours * 3_600_000);
      if (set.acceptWorkdays)
        return computeAcceptBy(now, set.acceptWorkdays, undefined, this.onFallback);
    }
    return computeAcceptBy(now, this.config.regulatorAcceptWorkdays, undefined, this.onFallback);
  }

  private mediationEndBy(t: ComplaintRow, now: Date): Date {
    const workdays =
      ticketRuleSetId(t) !== null
        ? ticketRuleSet(t).mediationWorkdays
        : this.config.mediationWorkdays;
    return computeMediationEndBy(now, workdays, undefined, this.onFallback);
  }

  private readonly onFallback = (year: number): void => {
    calendarFallbacks.inc({ year: String(year) }, 1);
    this.logger.warn(
      `no official holiday calendar for ${year}: appeal deadline on the fallback rule`,
    );
  };
}
