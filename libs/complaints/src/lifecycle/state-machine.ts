import { DomainError, ROLES } from '@app/shared';
import {
  APPEALABLE_STATUSES,
  MERCHANT_PHASE_STATUSES,
  OPEN_STATUSES,
  TERMINAL_STATUSES,
  TICKET_STATUSES,
} from '../vocabulary';
import type { TicketStatus } from '../vocabulary';

export {
  APPEALABLE_STATUSES,
  MERCHANT_PHASE_STATUSES,
  OPEN_STATUSES,
  TERMINAL_STATUSES,
  TICKET_STATUSES,
};
export type { TicketStatus };

/**
 * The ticket lifecycle of DESIGN.md ("Ticket lifecycle") as data. Services ask this table
 * whether `(status, action, actor)` is allowed and what the next status is; they never encode
 * a transition in an `if`. Conditions that depend on more than the status (the consumer's
 * 96-hour wait, a pending offer to accept, the worker's deadlines) live in escalation-policy.ts
 * and in the services; the table only says which moves exist.
 */

/** `system` is the BullMQ worker enforcing deadlines; the other four are JWT roles. */
export const ACTOR_ROLES = [...ROLES, 'system'] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export const TICKET_ACTIONS = [
  'consumer_message',
  'merchant_message',
  'regulator_message',
  'make_offer',
  'accept_offer',
  'reject_offer',
  'withdraw',
  'escalate',
  'escalate_no_response',
  'escalate_unresolved',
  'accept_case',
  'decline',
  'transfer',
  'record_mediation_agreement',
  'record_mediation_failure',
  'terminate_mediation_timeout',
  'accept_settled_offer',
  'record_refund',
  'expire_offer',
  'remind_offer',
  'confirm_settlement',
  'dispute_settlement',
  'settle_by_refund',
  'settle_no_objection',
  'escalate_unsettled',
  'appeal',
  'uphold_appeal_of_decline',
  'uphold_appeal_of_mediation_failure',
  'overturn_appeal_of_decline',
  'overturn_appeal_of_mediation_failure',
  'extend_deadline',
  'recompute_deadline',
] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];

export interface Transition {
  readonly from: TicketStatus;
  readonly action: TicketAction;
  readonly actor: ActorRole;
  readonly to: TicketStatus;
}

/**
 * Regulator-side rows. Written once and granted to both `regulator` and `admin` below:
 * an operator may act for an office (e.g. to record an outcome an officer reported by phone,
 * or to unblock a queue while an office is being onboarded). The trail records the actor's
 * real role, so such an action is never mistaken for the office's own.
 */
// prettier-ignore
const REGULATOR_ROWS: readonly Omit<Transition, 'actor'>[] = [
  // "escalated — assigned to the office by region; acceptBy = escalated + 7 working days"
  { from: 'escalated',         action: 'accept_case',                to: 'mediating' },        // 受理
  { from: 'escalated',         action: 'decline',                    to: 'declined' },         // 不予受理, reason from a fixed list
  // "Offices can transfer a ticket to another office." Only before acceptance: transfer
  // (移送) decides which office is competent, which is part of the acceptance decision; once
  // an office has accepted (受理) it owns the mediation until mediated / mediation_failed.
  { from: 'escalated',         action: 'transfer',                   to: 'escalated' },
  // "mediated — agreement reached in mediation."
  { from: 'mediating',         action: 'record_mediation_agreement', to: 'mediated' },
  // "mediation_failed — terminated: no agreement, a party refused …"
  { from: 'mediating',         action: 'record_mediation_failure',   to: 'mediation_failed' },
  { from: 'escalated',         action: 'regulator_message',          to: 'escalated' },
  { from: 'mediating',         action: 'regulator_message',          to: 'mediating' },
  // "appealed — … a different officer reviews it by reviewBy and upholds or overturns it."
  // (API.md: "upheld: back to the appealed status; overturned: escalated again with a new
  // acceptBy (from declined) or mediating with a new mediationEndBy (from mediation_failed)".)
  // One action per (outcome, appealed decision), so each row has one target; the appeals
  // service picks the row from the ticket's appeal_from. "A different officer" is checked there.
  { from: 'appealed',          action: 'uphold_appeal_of_decline',             to: 'declined' },
  { from: 'appealed',          action: 'uphold_appeal_of_mediation_failure',   to: 'mediation_failed' },
  { from: 'appealed',          action: 'overturn_appeal_of_decline',           to: 'escalated' },
  { from: 'appealed',          action: 'overturn_appeal_of_mediation_failure', to: 'mediating' },
  { from: 'appealed',          action: 'regulator_message',                    to: 'appealed' },
  // "Offices can … extend a deadline once with a reason the consumer sees": acceptBy while
  // escalated, mediationEndBy while mediating (the service checks which deadline runs).
  { from: 'escalated',         action: 'extend_deadline',            to: 'escalated' },
  { from: 'mediating',         action: 'extend_deadline',            to: 'mediating' },
];

/**
 * Every allowed move. Read it against DESIGN.md "Ticket lifecycle"; a triple that is not
 * here is refused with 409 INVALID_TRANSITION.
 */
// prettier-ignore
export const TRANSITIONS: readonly Transition[] = [
  // ── Merchant phase ────────────────────────────────────────────────────────────────────
  // "in_negotiation — the merchant's first message or offer moves it here (firstResponseAt)."
  { from: 'awaiting_merchant', action: 'merchant_message',            actor: 'merchant', to: 'in_negotiation' },
  { from: 'awaiting_merchant', action: 'make_offer',                  actor: 'merchant', to: 'in_negotiation' },
  { from: 'in_negotiation',    action: 'merchant_message',            actor: 'merchant', to: 'in_negotiation' },
  // "One pending offer at a time; a new offer supersedes the old one."
  { from: 'in_negotiation',    action: 'make_offer',                  actor: 'merchant', to: 'in_negotiation' },
  // "settling — the consumer accepted an offer; the merchant now has to do what it offered by
  // settleBy." (the service checks that the offer is the pending one and has not expired)
  { from: 'in_negotiation',    action: 'accept_offer',                actor: 'consumer', to: 'settling' },
  // "… or straight to resolved when the refunds recorded since the ticket was opened already
  // cover the offer" (API.md accept): the service picks this row when they do.
  { from: 'in_negotiation',    action: 'accept_settled_offer',        actor: 'consumer', to: 'resolved' },
  // "A pending offer that expires unanswered closes the ticket as withdrawn
  // (consumer_no_reply)" — the worker, at the offer's expiresAt.
  { from: 'in_negotiation',    action: 'expire_offer',                actor: 'system',   to: 'withdrawn' },
  // "… the consumer is reminded (event and live update) halfway through" (no state change).
  { from: 'in_negotiation',    action: 'remind_offer',                actor: 'system',   to: 'in_negotiation' },
  // "Every refund recorded while a ticket is open is an event refund_received on its trail,
  // and counts as the merchant's response (awaiting_merchant → in_negotiation)."
  { from: 'awaiting_merchant', action: 'record_refund',               actor: 'system',   to: 'in_negotiation' },
  { from: 'in_negotiation',    action: 'record_refund',               actor: 'system',   to: 'in_negotiation' },
  { from: 'settling',          action: 'record_refund',               actor: 'system',   to: 'settling' },
  { from: 'escalated',         action: 'record_refund',               actor: 'system',   to: 'escalated' },
  { from: 'mediating',         action: 'record_refund',               actor: 'system',   to: 'mediating' },
  // ── Settlement ("settling → resolved is the only self-resolution") ───────────────────
  // "resolved — the offer was carried out (refund seen, consumer confirmed, or a non-money
  // offer with no objection)."
  { from: 'settling',          action: 'settle_by_refund',            actor: 'system',   to: 'resolved' },
  { from: 'settling',          action: 'confirm_settlement',          actor: 'consumer', to: 'resolved' },
  { from: 'settling',          action: 'settle_no_objection',         actor: 'system',   to: 'resolved' },
  // "Nothing arrived and the consumer did not confirm → escalated (settlement_not_fulfilled)."
  { from: 'settling',          action: 'escalate_unsettled',          actor: 'system',   to: 'escalated' },
  { from: 'settling',          action: 'dispute_settlement',          actor: 'consumer', to: 'escalated' },
  // Both parties can still talk while the offer is carried out.
  { from: 'settling',          action: 'consumer_message',            actor: 'consumer', to: 'settling' },
  { from: 'settling',          action: 'merchant_message',            actor: 'merchant', to: 'settling' },
  { from: 'in_negotiation',    action: 'reject_offer',                actor: 'consumer', to: 'in_negotiation' },
  // A consumer message is not a merchant response: it leaves the merchant's clock running.
  { from: 'awaiting_merchant', action: 'consumer_message',            actor: 'consumer', to: 'awaiting_merchant' },
  { from: 'in_negotiation',    action: 'consumer_message',            actor: 'consumer', to: 'in_negotiation' },
  // "withdrawn — the consumer withdrew before escalation."
  { from: 'awaiting_merchant', action: 'withdraw',                    actor: 'consumer', to: 'withdrawn' },
  { from: 'in_negotiation',    action: 'withdraw',                    actor: 'consumer', to: 'withdrawn' },

  // ── Escalation ────────────────────────────────────────────────────────────────────────
  // By the consumer. From awaiting_merchant only once merchantRespondBy has passed: that time
  // rule is assertConsumerMayEscalate (ESCALATION_TOO_EARLY), checked before this table.
  { from: 'awaiting_merchant', action: 'escalate',                    actor: 'consumer', to: 'escalated' },
  { from: 'in_negotiation',    action: 'escalate',                    actor: 'consumer', to: 'escalated' },
  // By the worker: "awaiting_merchant past merchantRespondBy; or in_negotiation past resolveBy
  // with no offer waiting for the consumer" (policy/due-rules.ts decides when, SQL and TS).
  { from: 'awaiting_merchant', action: 'escalate_no_response',        actor: 'system',   to: 'escalated' },
  { from: 'in_negotiation',    action: 'escalate_unresolved',         actor: 'system',   to: 'escalated' },

  // ── Regulator phase ───────────────────────────────────────────────────────────────────
  ...REGULATOR_ROWS.map((row) => ({ ...row, actor: 'regulator' as const })),
  ...REGULATOR_ROWS.map((row) => ({ ...row, actor: 'admin' as const })),
  // "… or the 45 working days ran out (the worker terminates it)."
  { from: 'mediating',         action: 'terminate_mediation_timeout', actor: 'system',   to: 'mediation_failed' },
  // A year's official calendar was loaded: the worker recomputes the running deadline.
  { from: 'escalated',         action: 'recompute_deadline',          actor: 'system',   to: 'escalated' },
  { from: 'mediating',         action: 'recompute_deadline',          actor: 'system',   to: 'mediating' },
  { from: 'appealed',          action: 'recompute_deadline',          actor: 'system',   to: 'appealed' },
  // Both parties may keep adding statements and evidence to the trail while the office
  // decides and mediates (无感调查: the office reads the facts instead of re-asking). Only
  // messages: offers and acceptance belong to the merchant phase; a settlement reached in
  // mediation is recorded by the office.
  { from: 'escalated',         action: 'consumer_message',            actor: 'consumer', to: 'escalated' },
  { from: 'mediating',         action: 'consumer_message',            actor: 'consumer', to: 'mediating' },
  { from: 'escalated',         action: 'merchant_message',            actor: 'merchant', to: 'escalated' },
  { from: 'mediating',         action: 'merchant_message',            actor: 'merchant', to: 'mediating' },

  // ── Appeal (申诉) ─────────────────────────────────────────────────────────────────────
  // "The consumer appeals a declined or mediation_failed decision within the rule set's
  // window" — the only rows leaving a terminal status. Once per ticket and the window are
  // checked by the appeals service (appeal-policy.ts) before this table.
  { from: 'declined',          action: 'appeal',                      actor: 'consumer', to: 'appealed' },
  { from: 'mediation_failed',  action: 'appeal',                      actor: 'consumer', to: 'appealed' },
  // Both parties may add statements while the appeal is reviewed.
  { from: 'appealed',          action: 'consumer_message',            actor: 'consumer', to: 'appealed' },
  { from: 'appealed',          action: 'merchant_message',            actor: 'merchant', to: 'appealed' },
];

const key = (from: TicketStatus, action: TicketAction, actor: ActorRole): string =>
  `${from}|${action}|${actor}`;

const INDEX: ReadonlyMap<string, TicketStatus> = (() => {
  const index = new Map<string, TicketStatus>();
  for (const t of TRANSITIONS) {
    const k = key(t.from, t.action, t.actor);
    // A duplicate row with another target would make the table ambiguous; fail at load.
    if (index.has(k)) throw new Error(`duplicate lifecycle row ${k}`);
    index.set(k, t.to);
  }
  return index;
})();

export function isAllowed(from: TicketStatus, action: TicketAction, actor: ActorRole): boolean {
  return INDEX.has(key(from, action, actor));
}

/** The status after `action` by `actor`; 409 INVALID_TRANSITION when the table has no row. */
export function nextStatus(
  from: TicketStatus,
  action: TicketAction,
  actor: ActorRole,
): TicketStatus {
  const to = INDEX.get(key(from, action, actor));
  if (to === undefined) {
    throw new DomainError(
      'INVALID_TRANSITION',
      `A ${actor} cannot ${action.replace(/_/g, ' ')} on a ticket that is ${from.replace(/_/g, ' ')}`,
      { status: from, action, actor },
    );
  }
  return to;
}

/** What `actor` may do on a ticket in `from` (e.g. which buttons a dashboard shows). */
export function allowedActions(from: TicketStatus, actor: ActorRole): TicketAction[] {
  return TRANSITIONS.filter((t) => t.from === from && t.actor === actor).map((t) => t.action);
}

export const isTerminal = (status: TicketStatus): boolean => TERMINAL_STATUSES.includes(status);
export const isAppealable = (status: TicketStatus): boolean => APPEALABLE_STATUSES.includes(status);
export const isOpen = (status: TicketStatus): boolean => OPEN_STATUSES.includes(status);
export const isMerchantPhase = (status: TicketStatus): boolean =>
  MERCHANT_PHASE_STATUSES.includes(status);
