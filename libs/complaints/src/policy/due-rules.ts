import type { TicketAction } from '../lifecycle/state-machine';
import type { ComplaintRow } from '../complaint.row';
import type { EscalationReason } from '../complaint.types';

/**
 * The worker's due rules (DESIGN.md "Escalation" and "Mediation"): when a ticket's deadline has
 * passed and the worker moves it. Each rule is written once, its SQL and its TypeScript side by
 * side: the SQL for the sweep (`$1` = now; ordered by the deadline, the key of the status's
 * partial index), the function for a ticket locked by a delayed job (and for the dashboards'
 * `actions`). Both are inclusive: due AT the deadline. test/due-rules.e2e-spec.ts runs the two
 * on generated tickets in PostgreSQL and checks they agree ticket by ticket.
 */
export interface DueRule {
  /** The state table's action (nextStatus decides the target status). */
  action: TicketAction;
  /** The deadline column the rule watches (and orders the sweep by). */
  deadline: 'merchant_respond_by' | 'resolve_by' | 'mediation_end_by';
  /** The SQL condition on `complaints`; `$1` is now. */
  where: string;
  isDue: (t: DueFacts, now: Date) => boolean;
}

/** What the rules read of a ticket (a ComplaintRow has them all). */
export interface DueFacts {
  status: ComplaintRow['status'];
  pending_offer_id?: string | null;
  merchant_respond_by?: Date | null;
  resolve_by?: Date | null;
  mediation_end_by?: Date | null;
}

/** An escalation by the worker, with the reason it records. */
export interface DueEscalation extends DueRule {
  reason: EscalationReason;
}

const reached = (at: Date | null | undefined, now: Date): boolean =>
  Boolean(at) && at!.getTime() <= now.getTime();

/** awaiting_merchant past merchantRespondBy (ix_complaints_due_merchant). */
export const NO_RESPONSE: DueEscalation = {
  action: 'escalate_no_response',
  reason: 'merchant_no_response',
  deadline: 'merchant_respond_by',
  where: `status = 'awaiting_merchant' AND merchant_respond_by <= $1`,
  isDue: (t, now) => t.status === 'awaiting_merchant' && reached(t.merchant_respond_by, now),
};

/** in_negotiation past resolveBy with no offer waiting for the consumer (ix_complaints_due_resolve). */
export const UNRESOLVED: DueEscalation = {
  action: 'escalate_unresolved',
  reason: 'unresolved_in_time',
  deadline: 'resolve_by',
  where: `status = 'in_negotiation' AND resolve_by <= $1 AND pending_offer_id IS NULL`,
  isDue: (t, now) =>
    t.status === 'in_negotiation' && reached(t.resolve_by, now) && !t.pending_offer_id,
};

/** The worker's escalations, in the order the sweep takes them. */
export const DUE_ESCALATIONS: readonly DueEscalation[] = [NO_RESPONSE, UNRESOLVED];

/** mediating past mediationEndBy: the mediation is terminated (failed, time limit). */
export const MEDIATION_TIMEOUT: DueRule = {
  action: 'terminate_mediation_timeout',
  deadline: 'mediation_end_by',
  where: `status = 'mediating' AND mediation_end_by <= $1`,
  isDue: (t, now) => t.status === 'mediating' && reached(t.mediation_end_by, now),
};

/** Every due rule (the spec checks each). */
export const DUE_RULES: readonly DueRule[] = [...DUE_ESCALATIONS, MEDIATION_TIMEOUT];

/** The escalation due for a ticket now, if any (the delayed job's check under the lock). */
export function dueEscalation(t: DueFacts, now: Date): DueEscalation | undefined {
  return DUE_ESCALATIONS.find((r) => r.isDue(t, now));
}
