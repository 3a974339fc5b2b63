import type { EntityManager } from 'typeorm';
import { ReceiptReads } from '@app/receipts';
import { DomainError } from '@app/shared';
import { REFUND_TYPES } from '../vocabulary';
import type { DemandType } from '../vocabulary';

/**
 * A refund offer (`refund`, `partial_refund`) may not give back more than was paid, as a refund
 * demand may not ask for more (API.md names DEMAND_EXCEEDS_PAYMENT for demands; offers use the
 * same code, 422). Compensation is not bounded by the amount paid (statutory damages can exceed
 * it); every amount is still at most MAX_AMOUNT_MINOR (checked by the request DTO).
 * Runs inside the offer's transition, so the refusal rolls the whole write back.
 */
export async function assertOfferWithinPayment(
  tx: EntityManager,
  receiptId: string,
  offer: { type: DemandType; amountMinor?: number | null },
): Promise<void> {
  if (!REFUND_TYPES.includes(offer.type) || offer.amountMinor == null) return;
  const paid = await ReceiptReads.amountPaid(tx, receiptId);
  if (offer.amountMinor > paid) {
    throw new DomainError(
      'DEMAND_EXCEEDS_PAYMENT',
      `a ${offer.type} offer of ${offer.amountMinor} exceeds the ${paid} paid`,
      { paidMinor: paid },
      [{ field: 'amountMinor', message: `must not exceed ${paid}` }],
    );
  }
}
