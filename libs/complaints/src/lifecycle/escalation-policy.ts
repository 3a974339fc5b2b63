import { DomainError } from '@app/shared';
import type { TicketStatus } from './state-machine';
import { formatShanghai } from './working-days';

/**
 * When escalation is due or allowed (DESIGN.md "Escalation"). The state machine says which
 * statuses can be escalated at all; these functions add the time rules. Services call them
 * before asking the table, and the guarded `UPDATE … WHERE status = …` still decides races.
 */

export interface ConsumerEscalationFacts {
  status: TicketStatus;
  merchantRespondBy: Date;
  firstResponseAt: Date | null | undefined;
  now: Date;
}

/**
 * "Before the merchant's 96 hours are up and with no response yet, escalation is refused (the
 * merchant gets its chance)." Once the merchant has responded, the consumer may escalate at any
 * time; from `merchantRespondBy` on (inclusive), with or without a response. Other statuses
 * pass through untouched: the state machine answers INVALID_TRANSITION for them.
 */
export function assertConsumerMayEscalate(facts: ConsumerEscalationFacts): void {
  const { status, merchantRespondBy, firstResponseAt, now } = facts;
  if (status !== 'awaiting_merchant' || firstResponseAt) return;
  if (now.getTime() < merchantRespondBy.getTime()) {
    const availableAt = merchantRespondBy.toISOString();
    throw new DomainError(
      'ESCALATION_TOO_EARLY',
      `The merchant has until ${availableAt} (${formatShanghai(merchantRespondBy)}) to respond; ` +
        `escalation is available from then, or as soon as the merchant responds`,
      { availableAt },
    );
  }
}

/** Worker: "awaiting_merchant past merchantRespondBy" (and no response; inclusive). */
export function isDueForNoResponseEscalation(facts: ConsumerEscalationFacts): boolean {
  const { status, merchantRespondBy, firstResponseAt, now } = facts;
  return (
    status === 'awaiting_merchant' &&
    !firstResponseAt &&
    now.getTime() >= merchantRespondBy.getTime()
  );
}

export interface UnresolvedEscalationFacts {
  status: TicketStatus;
  resolveBy: Date;
  /** An offer is waiting for the consumer's answer: the ball is in the consumer's court. */
  hasPendingOffer: boolean;
  now: Date;
}

/** Worker: "in_negotiation past resolveBy with no offer waiting for the consumer" (inclusive). */
export function isDueForUnresolvedEscalation(facts: UnresolvedEscalationFacts): boolean {
  const { status, resolveBy, hasPendingOffer, now } = facts;
  return status === 'in_negotiation' && !hasPendingOffer && now.getTime() >= resolveBy.getTime();
}
