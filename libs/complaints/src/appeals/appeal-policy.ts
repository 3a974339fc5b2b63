import { DomainError } from '@app/shared';
import { APPEALABLE_STATUSES } from '../vocabulary';
import type { AppealOutcome, TicketStatus } from '../vocabulary';
import type { TicketAction } from '../lifecycle/state-machine';
import { addWorkingDays } from '../lifecycle/working-days';
import type { WorkingDayCalendar } from '../lifecycle/working-days';
import { PRE_RULE_SET_LIMITS } from '../rules/rule-sets';
import type { RuleLimits } from '../rules/rule-sets';

/**
 * The appeal rules of API.md ("Appeals") as plain functions of a ticket's facts and `now`, so
 * unit tests drive them with dates and the service calls them under the row lock.
 */

/**
 * The appeal limits a ticket keeps (appealWindowWorkdays, reviewWorkdays): a RuleSet, or the
 * RuleLimits snapshot a ticket takes at escalation (RulesService.ticketRules).
 */
export type AppealLimits = Pick<RuleLimits, 'appealWindowWorkdays' | 'reviewWorkdays'>;

/** The id of the rule set a ticket was escalated under (`complaints.rule_set`), null when none. */
export function ticketRuleSetId(row: object): string | null {
  const id = (row as { rule_set?: unknown }).rule_set;
  return typeof id === 'string' && id !== '' ? id : null;
}

/**
 * The appeal limits of a ticket for its view (a pure function of the row): the limits it keeps
 * from escalation (`rule_limits`, as RulesService.ticketRules reads them). Every escalated ticket
 * has them (tickets from before rule sets were frozen by FreezeLegacyRuleLimits1765000500000);
 * a row without them (never escalated, so never appealable) gets PRE_RULE_SET_LIMITS. The
 * services read them through RulesService.ticketRules.
 */
export function ticketAppealLimits(row: object): AppealLimits {
  const limits = (row as { rule_limits?: unknown }).rule_limits as Partial<AppealLimits> | null;
  if (
    limits &&
    typeof limits === 'object' &&
    typeof limits.appealWindowWorkdays === 'number' &&
    typeof limits.reviewWorkdays === 'number'
  ) {
    return {
      appealWindowWorkdays: limits.appealWindowWorkdays,
      reviewWorkdays: limits.reviewWorkdays,
    };
  }
  return PRE_RULE_SET_LIMITS;
}

export interface AppealFacts {
  status: TicketStatus;
  /** When the appealed decision was made (decided_at; closed_at for rows decided before it existed). */
  decidedAt: Date | null;
  appealedAt: Date | null;
}

/** The appeal facts of a ticket row (the use case under the lock, and the viewer's actions). */
export function appealFactsOf(t: {
  status: TicketStatus;
  decided_at?: Date | null;
  closed_at: Date | null;
  appealed_at?: Date | null;
}): AppealFacts {
  return {
    status: t.status,
    decidedAt: t.decided_at ?? t.closed_at,
    appealedAt: t.appealed_at ?? null,
  };
}

/** The end of the working day `limit` working days after `from` (Asia/Shanghai). */
const workdaysAfter =
  (limit: keyof AppealLimits) =>
  (
    from: Date,
    set: AppealLimits,
    calendar?: WorkingDayCalendar,
    onFallback?: (year: number) => void,
  ): Date =>
    addWorkingDays(from, set[limit], { calendar, onFallback }).deadline;

/** End of the appeal window: `appealWindowWorkdays` working days after the decision. */
export const appealWindowClosesAt = workdaysAfter('appealWindowWorkdays');

/** `reviewBy` = appealed + the set's `reviewWorkdays` working days. */
export const computeReviewBy = workdaysAfter('reviewWorkdays');

/**
 * May the consumer appeal now? Once per ticket (a second appeal, also after an upheld one:
 * 409 INVALID_TRANSITION), only a declined / mediation_failed decision (the state table says
 * the same), within the window (422 APPEAL_WINDOW_EXPIRED). Returns when the window closes.
 */
export function assertMayAppeal(
  f: AppealFacts,
  set: AppealLimits,
  now: Date,
  calendar?: WorkingDayCalendar,
): Date | null {
  if (f.appealedAt) {
    throw new DomainError('INVALID_TRANSITION', 'this ticket was already appealed once', {
      appealedAt: f.appealedAt.toISOString(),
    });
  }
  if (!APPEALABLE_STATUSES.includes(f.status)) return null; // the state table refuses it
  if (!f.decidedAt) throw new Error('assertMayAppeal: a decided ticket without a decision time');
  const closesAt = appealWindowClosesAt(f.decidedAt, set, calendar);
  if (now.getTime() > closesAt.getTime()) {
    throw new DomainError(
      'APPEAL_WINDOW_EXPIRED',
      `This decision could be appealed within ${set.appealWindowWorkdays} working days, until ${closesAt.toISOString()}`,
      { closesAt: closesAt.toISOString(), appealWindowWorkdays: set.appealWindowWorkdays },
    );
  }
  return closesAt;
}

/**
 * "A different officer decides (the one who made the decision cannot)": 403 FORBIDDEN for the
 * person (officer or admin) whose `sub` made the appealed decision. A decision by the worker
 * (mediation timed out) can be reviewed by any officer of the office.
 */
export function assertMayDecideAppeal(decidedBy: string | null, deciderSub: string): void {
  if (decidedBy !== null && decidedBy === deciderSub) {
    throw new DomainError(
      'FORBIDDEN',
      'the officer who made the appealed decision cannot decide the appeal; another officer of the office (or an admin) must',
    );
  }
}

/** The state table's row for an appeal decision (see state-machine.ts). */
export function appealDecisionAction(
  outcome: AppealOutcome,
  appealFrom: TicketStatus | null,
): TicketAction {
  if (appealFrom === 'declined') {
    return outcome === 'upheld' ? 'uphold_appeal_of_decline' : 'overturn_appeal_of_decline';
  }
  if (appealFrom === 'mediation_failed') {
    return outcome === 'upheld'
      ? 'uphold_appeal_of_mediation_failure'
      : 'overturn_appeal_of_mediation_failure';
  }
  throw new Error(`appealDecisionAction: an appeal of ${String(appealFrom)}`);
}
