/*
 * Settlement of an accepted offer (DESIGN.md "settling"; API.md Complaints → Settlement), as
 * plain rules and the few reads they need. The writes go through TicketTransitions.transition:
 * one guarded UPDATE … WHERE status = expected, its event and outbox rows in one transaction.
 */
import type { EntityManager } from 'typeorm';
import { ReceiptReads } from '@app/receipts';
import { DomainError } from '@app/shared';
import type { ComplaintRow, OfferRow } from '../complaint.row';
import { MONEY_OFFER_TYPES, VERIFIED_SETTLED_VIA } from '../vocabulary';
import type { DemandType, SettledVia } from '../vocabulary';

/** Where a refund counts toward a ticket: recorded (or made) no earlier than the ticket. */
const SINCE_OPENED = `greatest(f.refunded_at, f.received_at) >= c.created_at`;

/**
 * Refunds recorded for the ticket's receipt since the ticket was opened (matched by provider
 * and trade number, so a refund stored before its receipt counts too). A refund counts when it
 * was made or recorded no earlier than the ticket's creation.
 */
export async function refundedSinceOpened(tx: EntityManager, complaintId: string): Promise<number> {
  // created_at as PostgreSQL's text: a Date would drop its microseconds.
  const [t]: { receipt_id: string; created_at: string }[] = await tx.query(
    'SELECT receipt_id, created_at::text AS created_at FROM complaints WHERE id = $1',
    [complaintId],
  );
  return t ? ReceiptReads.refundedSince(tx, t.receipt_id, t.created_at) : 0;
}

/** SQL: settling tickets whose recorded refunds already cover their money offer. */
export const SETTLING_COVERED_SQL = `
  SELECT c.id FROM complaints c
    JOIN receipts r ON r.id = c.receipt_id
   WHERE c.status = 'settling'
     AND c.settlement_type = ANY($1::text[])
     AND c.settlement_amount_minor <= (
           SELECT coalesce(sum(f.amount_minor), 0) FROM refunds f
            WHERE f.provider = r.provider AND f.trade_no = r.trade_no AND ${SINCE_OPENED})
   ORDER BY c.settle_by
   LIMIT $2`;

export const isMoneyOffer = (type: DemandType | null | undefined): boolean =>
  !!type && MONEY_OFFER_TYPES.includes(type);

/** A money offer is carried out when the refunds since the ticket opened reach its amount. */
export function refundsCover(
  type: DemandType | null | undefined,
  amountMinor: number | string | null | undefined,
  refundedMinor: number,
): boolean {
  if (!isMoneyOffer(type) || amountMinor === null || amountMinor === undefined) return false;
  return refundedMinor >= Number(amountMinor);
}

export const isVerified = (via: SettledVia | null | undefined): boolean =>
  !!via && VERIFIED_SETTLED_VIA.includes(via);

export async function readOffer(tx: EntityManager, offerId: string): Promise<OfferRow> {
  const [offer]: OfferRow[] = await tx.query(`SELECT * FROM complaint_offers WHERE id = $1`, [
    offerId,
  ]);
  if (!offer) throw new DomainError('NOT_FOUND', `offer ${offerId} not found`);
  return offer;
}

/** An offer past its expiresAt can no longer be accepted (API.md: 409 INVALID_TRANSITION). */
export function assertOfferOpen(offer: OfferRow, now: Date): void {
  if (offer.expires_at && offer.expires_at.getTime() <= now.getTime()) {
    throw new DomainError(
      'INVALID_TRANSITION',
      `offer ${offer.id} expired at ${offer.expires_at.toISOString()}`,
      { offerId: offer.id, expiresAt: offer.expires_at.toISOString() },
    );
  }
}

/** The halfway point of an offer's response time: the consumer is reminded then. */
export function reminderAt(offer: Pick<OfferRow, 'created_at' | 'expires_at'>): Date | null {
  if (!offer.expires_at) return null;
  const created = offer.created_at.getTime();
  return new Date(created + Math.floor((offer.expires_at.getTime() - created) / 2));
}

/** What accepting `offer` writes: settling with settleBy, or resolved when refunds cover it. */
export function acceptance(
  t: Pick<ComplaintRow, 'id'>,
  offer: OfferRow,
  refundedMinor: number,
  now: Date,
  settlementSlaMs: number,
): {
  covered: boolean;
  set: Record<string, unknown>;
  data: Record<string, unknown>;
  settleBy: Date;
} {
  const settleBy = new Date(now.getTime() + settlementSlaMs);
  const covered = refundsCover(offer.type, offer.amount_minor, refundedMinor);
  const amount = offer.amount_minor === null ? null : Number(offer.amount_minor);
  return {
    covered,
    settleBy,
    set: {
      pending_offer_id: null,
      settlement_offer_id: offer.id,
      settlement_type: offer.type,
      settlement_amount_minor: amount,
      settle_by: settleBy,
      settlement_refunded_minor: refundedMinor,
      ...(covered ? { settled_at: now, settled_via: 'refund', closed_at: now } : {}),
    },
    data: {
      offerId: offer.id,
      type: offer.type,
      amountMinor: amount,
      settleBy: settleBy.toISOString(),
      refundedMinor,
      ...(covered ? { settledVia: 'refund' } : {}),
    },
  };
}

/** The columns and event data of `settling → resolved`. */
export function settledChange(
  t: Pick<ComplaintRow, 'settlement_offer_id'>,
  via: SettledVia,
  refundedMinor: number,
  now: Date,
): { set: Record<string, unknown>; event: { type: string; data: Record<string, unknown> } } {
  return {
    set: {
      settled_at: now,
      settled_via: via,
      settlement_refunded_minor: refundedMinor,
      closed_at: now,
    },
    event: {
      type: 'settled',
      data: { offerId: t.settlement_offer_id ?? null, settledVia: via, refundedMinor },
    },
  };
}
