import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import type { TicketAction } from '../lifecycle';
import type { OfferRow } from '../complaint.row';
import type { DemandType, OfferView, TicketView } from '../complaint.types';
import { assertOfferWithinPayment } from '../offers/offer-limits';
import {
  acceptance,
  assertOfferOpen,
  readOffer,
  refundedSinceOpened,
  reminderAt,
} from '../settlement/settlement-rules';
import { TicketTransitions } from '../changes/transitions';
import { ReadingUseCase } from './reading';
import { checkDemand, firstResponse, lapsePendingOffers, requirePending } from './shared';

/** The merchant phase: messages, offers and the consumer's answers, withdrawal. */
@Injectable()
export class NegotiationUseCase {
  constructor(
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly transitions: TicketTransitions,
    private readonly reading: ReadingUseCase,
  ) {}

  async message(id: string, actor: Actor, body: string): Promise<{ seq: number; at: string }> {
    const action: TicketAction =
      actor.role === 'consumer'
        ? 'consumer_message'
        : actor.role === 'merchant'
          ? 'merchant_message'
          : 'regulator_message';
    let appended = { seq: 0, at: '' };
    await this.transitions.transition(id, actor, action, (t, now) => {
      appended = { seq: t.event_count + 1, at: now.toISOString() };
      return {
        set: firstResponse(t, actor, now),
        event: { type: 'message', data: { body } },
      };
    });
    return appended;
  }

  /** A structured offer; a new one supersedes the pending one. */
  async makeOffer(
    id: string,
    actor: Actor,
    offer: { type: DemandType; amountMinor?: number; note?: string },
  ): Promise<OfferView> {
    checkDemand(offer.type, offer.amountMinor, 'amountMinor');
    const offerId = randomUUID();
    await this.transitions.transition(id, actor, 'make_offer', async (t, now, tx) => {
      await assertOfferWithinPayment(tx, t.receipt_id, offer);
      // Offers expire unanswered (OFFER_RESPONSE_SLA); the consumer is reminded halfway.
      const expiresAt = new Date(now.getTime() + this.config.offerResponseSlaMs);
      const remindAt = reminderAt({ created_at: now, expires_at: expiresAt });
      const superseded = t.pending_offer_id;
      if (superseded) {
        await tx.query(
          `UPDATE complaint_offers SET status = 'superseded', decided_at = $2 WHERE id = $1 AND status = 'pending'`,
          [superseded, now],
        );
      }
      await tx.query(
        `INSERT INTO complaint_offers (id, complaint_id, type, amount_minor, note, status, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)`,
        [
          offerId,
          id,
          offer.type,
          offer.amountMinor ?? null,
          offer.note ?? null,
          actor.sub,
          now,
          expiresAt,
        ],
      );
      return {
        set: { ...firstResponse(t, actor, now), pending_offer_id: offerId },
        event: {
          type: 'offer_made',
          data: {
            offerId,
            type: offer.type,
            amountMinor: offer.amountMinor ?? null,
            note: offer.note ?? null,
            supersedes: superseded,
            expiresAt: expiresAt.toISOString(),
          },
        },
        deadlines: [
          ...(remindAt
            ? [{ complaintId: id, kind: 'offer_reminder' as const, dueAt: remindAt }]
            : []),
          { complaintId: id, kind: 'offer_expiry', dueAt: expiresAt },
        ],
      };
    });
    return this.reading.offer(offerId);
  }

  /**
   * Accepting an offer → settling until settleBy (SETTLEMENT_SLA), or straight to resolved when
   * the refunds recorded since the ticket was opened already cover it (settlement/). An expired
   * offer can no longer be accepted.
   */
  async acceptOffer(id: string, actor: Actor, offerId: string): Promise<TicketView> {
    let offer: OfferRow | undefined;
    let refunded = 0;
    await this.transitions.transition(
      id,
      actor,
      async (t, tx, now) => {
        requirePending(t, offerId);
        offer = await readOffer(tx, offerId);
        assertOfferOpen(offer, now);
        refunded = await refundedSinceOpened(tx, t.id);
        return acceptance(t, offer, refunded, now, 0).covered
          ? 'accept_settled_offer'
          : 'accept_offer';
      },
      async (t, now, tx) => {
        if (!offer) throw new Error('acceptOffer: no offer read under the lock');
        await tx.query(
          `UPDATE complaint_offers SET status = 'accepted', decided_at = $2 WHERE id = $1`,
          [offerId, now],
        );
        const a = acceptance(t, offer, refunded, now, this.config.settlementSlaMs);
        return {
          set: a.set,
          event: { type: 'offer_accepted', data: a.data },
          deadlines: a.covered ? [] : [{ complaintId: id, kind: 'settlement', dueAt: a.settleBy }],
        };
      },
    );
    return this.reading.view(id, actor, this.clock.now());
  }

  async rejectOffer(
    id: string,
    actor: Actor,
    offerId: string,
    reason?: string,
  ): Promise<TicketView> {
    await this.transitions.transition(id, actor, 'reject_offer', async (t, now, tx) => {
      requirePending(t, offerId);
      await tx.query(
        `UPDATE complaint_offers SET status = 'rejected', reject_reason = $3, decided_at = $2 WHERE id = $1`,
        [offerId, now, reason ?? null],
      );
      return {
        set: { pending_offer_id: null },
        event: { type: 'offer_rejected', data: { offerId, reason: reason ?? null } },
      };
    });
    return this.reading.view(id, actor, this.clock.now());
  }

  async withdraw(id: string, actor: Actor, reason?: string): Promise<TicketView> {
    await this.transitions.transition(id, actor, 'withdraw', async (t, now, tx) => {
      await lapsePendingOffers(tx, [t], now);
      return {
        set: { pending_offer_id: null, closed_at: now, withdraw_reason: 'consumer' },
        event: { type: 'withdrawn', data: { reason: reason ?? null } },
      };
    });
    return this.reading.view(id, actor, this.clock.now());
  }
}
