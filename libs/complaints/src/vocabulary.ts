/**
 * The words of the complaint domain that the API, the worker and the dashboards (apps/web) all
 * speak: ticket statuses and their groups, complaint categories, demand types, decline reasons.
 * No imports, so the dashboards' bundle can import this file as it is: one list, one home.
 */

export const TICKET_STATUSES = [
  'awaiting_merchant',
  'in_negotiation',
  'settling',
  'resolved',
  'withdrawn',
  'escalated',
  'mediating',
  'declined',
  'mediated',
  'mediation_failed',
  'appealed',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/**
 * The merchant phase: the merchant can still settle the ticket on its own (in `settling` it has
 * to carry out the offer the consumer accepted).
 */
export const MERCHANT_PHASE_STATUSES: readonly TicketStatus[] = [
  'awaiting_merchant',
  'in_negotiation',
  'settling',
];
/** Still moving: someone (merchant, regulator or the worker) owes the next step. */
export const OPEN_STATUSES: readonly TicketStatus[] = [
  'awaiting_merchant',
  'in_negotiation',
  'settling',
  'escalated',
  'mediating',
  // "appealed — the consumer appealed a declined or mediation_failed decision within the
  // window; a different officer reviews it by reviewBy and upholds or overturns it."
  'appealed',
];
/**
 * Final: no action (not even a message) is accepted, except the consumer's one appeal of a
 * `declined` or `mediation_failed` decision within the rule set's window (APPEALABLE_STATUSES).
 */
export const TERMINAL_STATUSES: readonly TicketStatus[] = [
  'resolved',
  'withdrawn',
  'declined',
  'mediated',
  'mediation_failed',
];

/** Terminal decisions the consumer may appeal once (申诉), within the rule set's window. */
export const APPEALABLE_STATUSES: readonly TicketStatus[] = ['declined', 'mediation_failed'];

export const APPEAL_OUTCOMES = ['upheld', 'overturned'] as const;
export type AppealOutcome = (typeof APPEAL_OUTCOMES)[number];

export const CATEGORIES = [
  'quality',
  'not_as_described',
  'overcharge',
  'refund',
  'service',
  'safety',
  'fraud',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const DEMAND_TYPES = [
  'refund',
  'partial_refund',
  'return',
  'exchange',
  'repair',
  'compensation',
  'apology',
  'other',
] as const;
export type DemandType = (typeof DEMAND_TYPES)[number];
/** Demands and offers of these types name an amount. */
export const AMOUNT_TYPES: readonly DemandType[] = ['refund', 'partial_refund', 'compensation'];
/** Offers that money settles: a recorded refund reaching the amount, or the consumer's word. */
export const MONEY_OFFER_TYPES: readonly DemandType[] = AMOUNT_TYPES;
/** How an accepted offer was carried out; "legacy": resolved before verification existed. */
export const SETTLED_VIA = ['refund', 'consumer', 'no_objection', 'legacy'] as const;
export type SettledVia = (typeof SETTLED_VIA)[number];
/** The settlements that money or the consumer confirmed (the verified rate). */
export const VERIFIED_SETTLED_VIA: readonly SettledVia[] = ['refund', 'consumer'];
/** A refund cannot exceed what was paid; compensation may (e.g. statutory triple damages). */
export const REFUND_TYPES: readonly DemandType[] = ['refund', 'partial_refund'];

/**
 * Grounds for not accepting a complaint (不予受理), after the national complaint-handling
 * measures: outside the office's duties or jurisdiction; already before a court or arbitration;
 * already handled by another body; no clear claim or a repeat without new facts; older than the
 * limitation period; the consumer's identity could not be confirmed; other (explain in detail).
 */
export const DECLINE_REASONS = [
  'outside_jurisdiction',
  'court_or_arbitration',
  'handled_elsewhere',
  'no_clear_claim',
  'time_barred',
  'identity_unverified',
  'other',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];
