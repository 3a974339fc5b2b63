import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CLOCK } from '@app/shared';
import type { Actor, Clock } from '@app/shared';
import { TicketTransitions } from '../changes/transitions';
import { ReadingUseCase } from '../use-cases/reading';
import { acceptBy, mediationEndBy, overduePerOffice } from '../use-cases/shared';
import { withBasis } from '../changes/change';
import type { Change } from '../changes/change';
import type { TicketView } from '../complaint.types';
import { CalendarService } from '../calendar/calendar.service';
import { DEADLINE_FIELDS, computeDeadline } from '../calendar/deadlines';
import type { Deadline } from '../jobs/deadline-scheduler';
import { RulesService } from '../rules/rules.service';
import type { AppealOutcome } from '../vocabulary';
import {
  appealDecisionAction,
  appealFactsOf,
  assertMayAppeal,
  assertMayDecideAppeal,
} from './appeal-policy';

/**
 * Appeals (申诉, API.md "Appeals"): the consumer's one appeal of a `declined` or
 * `mediation_failed` decision, and its review by another officer. Each is one transition of
 * TicketTransitions (row lock, state table, guarded UPDATE, hash-chained event, outbox) with
 * the rules of appeal-policy.ts checked under the lock.
 */
@Injectable()
export class AppealsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly transitions: TicketTransitions,
    private readonly reading: ReadingUseCase,
    private readonly rules: RulesService,
    private readonly calendar: CalendarService,
  ) {}

  /** POST /v1/complaints/:id/appeal (consumer). */
  async appeal(id: string, actor: Actor, reason: string): Promise<TicketView> {
    const calendar = await this.calendar.snapshot();
    await this.transitions.transition(id, actor, 'appeal', (t, now): Change => {
      // The ticket's rule set (the limits it keeps from escalation): appealWindowWorkdays and
      // reviewWorkdays, counted on the calendar deadlines are counted on.
      const rules = this.rules.ticketRules(t);
      assertMayAppeal(appealFactsOf(t), rules.limits, now, calendar);
      const { at: reviewBy, basis } = computeDeadline(calendar, now, {
        workdays: rules.limits.reviewWorkdays,
        ruleSet: rules.ruleSet,
      });
      return {
        set: {
          appealed_at: now,
          appeal_from: t.status,
          appeal_reason: reason,
          review_by: reviewBy,
          closed_at: null,
          deadline_basis: withBasis(t, 'reviewBy', basis),
        },
        event: {
          type: 'appealed',
          data: {
            reason,
            decidedBy: t.decided_by ?? null,
            reviewBy: reviewBy.toISOString(),
            ruleSet: rules.ruleSet,
          },
        },
        deadlines: [{ complaintId: id, kind: 'appeal_review', dueAt: reviewBy }],
      };
    });
    return this.reading.view(id, actor, this.clock.now());
  }

  /** POST /v1/complaints/:id/appeal/decision (another regulator of the office, or admin). */
  async decide(
    id: string,
    actor: Actor,
    outcome: AppealOutcome,
    note: string,
  ): Promise<TicketView> {
    const calendar = await this.calendar.snapshot();
    await this.transitions.transition(
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
        // Overturned: back to the phase of the appealed decision, with a new period under the
        // ticket's rule set and its deadline basis (like escalation and acceptance), counted
        // from the appeal decision; what that decision recorded is cleared.
        const rules = this.rules.ticketRules(t);
        const [field, period, cleared] =
          t.appeal_from === 'declined'
            ? (['acceptBy', acceptBy, { decline_reason: null, decline_detail: null }] as const)
            : (['mediationEndBy', mediationEndBy, { mediation_outcome: null }] as const);
        const { column, kind } = DEADLINE_FIELDS[field];
        const { at, basis } = period(calendar, now, rules);
        return {
          set: {
            ...reopened,
            [column]: at,
            ...cleared,
            deadline_basis: withBasis(t, field, basis),
          },
          event: { type: 'appeal_decided', data: { ...data, [field]: at.toISOString() } },
          deadlines: [{ complaintId: id, kind: kind as Deadline['kind'], dueAt: at }],
        };
      },
    );
    return this.reading.view(id, actor, this.clock.now());
  }

  /** Appeals past reviewBy without a decision, per office (a metric; the view flags each). */
  countReviewOverdue(
    now: Date = this.clock.now(),
  ): Promise<{ officeId: string | null; n: number }[]> {
    return overduePerOffice(this.db, 'reviewBy', now);
  }
}
