import { DomainError } from '@app/shared';
import type { TicketStatus } from './state-machine';
import { formatShanghai } from './working-days';
import { NO_RESPONSE, UNRESOLVED } from '../policy/due-rules';

/**
 * When escalation is allowed (DESIGN.md "Escalation"); when the worker's escalation is due is
 * policy/due-rules.ts (re-exported here under the old names). The state machine says which
 * statuses can be escalated at all; these functions add the time rules. Services call them
 * before asking the table, and the guarded `UPDATE … WHERE status = …` still decides races.
 */

export interface ConsumerEscalationFacts {
  status: TicketStatus;
  merchantRespondBy: Date;
  firstResponseAt: Date | null | undefined;
  now: Date;
}

/** The escalation facts of a ticket row at `now` (the use case under the lock, and `actions`). */
export function escalationFactsOf(
  t: { status: TicketStatus; merchant_respond_by: Date; first_response_at: Date | null },
  now: Date,
): ConsumerEscalationFacts {
  return {
    status: t.status,
    merchantRespondBy: t.merchant_respond_by,
    firstResponseAt: t.first_response_at,
    now,
  };
}

/**
 * "Before the merchant's 96 hours are up and with no response yet, escalation is refused (the
 * merchant gets its chance)." Once the merchant has responded, the consumer may escalate at any
 * time; from `merchantRespondBy` on (inclusive), with or without a response. Other statuses
 * pass through untouched: the state machine answers INVALID_TRANSITION for them.
 */
export function assertConsumerMayEscalate(facts: ConsumerEscalationFacts): void {
  if (!consumerEscalationTooEarly(facts)) return;
  const { merchantRespondBy } = facts;
  const availableAt = merchantRespondBy.toISOString();
  throw new DomainError(
    'ESCALATION_TOO_EARLY',
    `The merchant has until ${availableAt} (${formatShanghai(merchantRespondBy)}) to respond; ` +
      `escalation is available from then, or as soon as the merchant responds`,
    { availableAt },
  );
}

/**
 * The rule of assertConsumerMayEscalate as a predicate: true while the merchant still has its
 * chance (awaiting_merchant, no response, before merchantRespondBy). TicketView.actions asks it
 * for every consumer view, including each creation's answer, where throwing and catching a
 * DomainError (an Error with its stack) only to learn "not yet" cost ≈ 1.5 % of the API's CPU.
 */
export function consumerEscalationTooEarly(facts: ConsumerEscalationFacts): boolean {
  const { status, merchantRespondBy, firstResponseAt, now } = facts;
  return (
    status === 'awaiting_merchant' &&
    !firstResponseAt &&
    now.getTime() < merchantRespondBy.getTime()
  );
}

/**
 * Worker: "awaiting_merchant past merchantRespondBy" (inclusive) — policy/due-rules.ts
 * NO_RESPONSE, where the rule lives with its SQL. A response always leaves awaiting_merchant
 * (every merchant action moves the ticket to in_negotiation), so `firstResponseAt` decides
 * nothing here.
 */
export function isDueForNoResponseEscalation(facts: ConsumerEscalationFacts): boolean {
  return NO_RESPONSE.isDue(
    { status: facts.status, merchant_respond_by: facts.merchantRespondBy },
    facts.now,
  );
}

export interface UnresolvedEscalationFacts {
  status: TicketStatus;
  resolveBy: Date;
  /** An offer is waiting for the consumer's answer: the ball is in the consumer's court. */
  hasPendingOffer: boolean;
  now: Date;
}

/**
 * Worker: "in_negotiation past resolveBy with no offer waiting for the consumer" (inclusive) —
 * policy/due-rules.ts UNRESOLVED.
 */
export function isDueForUnresolvedEscalation(facts: UnresolvedEscalationFacts): boolean {
  return UNRESOLVED.isDue(
    {
      status: facts.status,
      resolve_by: facts.resolveBy,
      pending_offer_id: facts.hasPendingOffer ? 'pending' : null,
    },
    facts.now,
  );
}
