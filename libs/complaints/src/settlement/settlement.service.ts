import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CLOCK, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import { TicketTransitions } from '../changes/transitions';
import type { Change, Performer } from '../changes/change';
import { ReadingUseCase } from '../use-cases/reading';
import { EscalationUseCase } from '../use-cases/escalation';
import type { ComplaintRow, OfferRow } from '../complaint.row';
import { isTerminal } from '../lifecycle';
import type { TicketAction } from '../lifecycle';
import type { TicketView } from '../complaint.types';
import { MONEY_OFFER_TYPES } from '../vocabulary';
import {
  SETTLING_COVERED_SQL,
  isMoneyOffer,
  refundedSinceOpened,
  refundsCover,
  reminderAt,
  settledChange,
} from './settlement-rules';

/** Who records a refund on a trail: the provider that reported it. */
function refundPerformer(refund: RecordedRefund): Performer {
  return { role: 'system', sub: `refund:${refund.provider}` };
}

/** The worker enforcing settlement and offer deadlines. */
const SETTLEMENT_WORKER: Performer = { role: 'system', sub: 'deadline-worker' };

/** A refund the receipts lib recorded (what onRefundRecorded needs to find its ticket). */
export interface RecordedRefund {
  id: string;
  /** The receipt it refunds, when known (undefined: look it up). */
  receiptId?: string | null;
  provider: string;
  tradeNo: string;
  refundNo: string;
  amountMinor: number;
  currency: string;
  refundedAt: string;
}

export interface SettlementSweepResult {
  settled: number;
  escalated: number;
  expired: number;
  reminded: number;
}

/**
 * Settlement (settling → resolved | escalated), refunds on the trail, and offer expiry. Every
 * write is TicketTransitions.transition: the ticket row locked, the state table asked, a guarded
 * `UPDATE … WHERE status = <read>` with its event and outbox rows in one transaction. So a refund
 * notification, the consumer's confirmation and the worker's deadline racing on one settling
 * ticket give one outcome and one event: the first locks and moves it, the others then find a
 * resolved (or escalated) ticket and change nothing.
 */
@Injectable()
export class SettlementService {
  private readonly logger = new Logger(SettlementService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly transitions: TicketTransitions,
    private readonly reading: ReadingUseCase,
    private readonly escalations: EscalationUseCase,
  ) {}

  // ---------------------------------------------------------------- consumer

  /** POST …/settlement/confirm: the consumer says the offer was carried out. */
  async confirm(id: string, actor: Actor): Promise<TicketView> {
    await this.transitions.transition(id, actor, 'confirm_settlement', async (t, now, tx) =>
      settledChange(t, 'consumer', await refundedSinceOpened(tx, t.id), now),
    );
    return this.reading.get(id, actor);
  }

  /** POST …/settlement/dispute: not carried out → escalated (settlement_not_fulfilled). */
  async dispute(id: string, actor: Actor, reason: string): Promise<TicketView> {
    await this.transitions.transition(id, actor, 'dispute_settlement', (t, now, tx) =>
      this.escalations.escalation(t, now, tx, 'settlement_not_fulfilled', reason),
    );
    return this.reading.get(id, actor);
  }

  // ---------------------------------------------------------------- refunds

  /**
   * Called by the API (and the worker) after the receipts lib committed a new refund: the ticket
   * of its receipt, if open, gets `refund_received` (the merchant's response when it was still
   * awaiting one), and a settling ticket whose money offer the refunds now cover is settled.
   * Idempotent: a refund already on the trail is not appended again. A crash between the
   * refund's commit and this call is caught by the sweep (settling tickets covered by refunds).
   */
  async onRefundRecorded(
    refund: RecordedRefund,
  ): Promise<{ ticketId: string | null; settled: boolean }> {
    const ticketId = await this.recordRefundOnTrail(refund);
    if (!ticketId) return { ticketId: null, settled: false };
    return { ticketId, settled: await this.settleIfCovered(ticketId, refundPerformer(refund)) };
  }

  /**
   * Refunds recorded together (POST /v1/refunds/batch), in their order: each on its ticket's
   * trail first, as if they had arrived one by one, and only then each ticket settled once if
   * the refunds cover its offer — so no refund of the batch is missing from a trail because an
   * earlier one of the same batch already closed the ticket.
   */
  async onRefundsRecorded(refunds: RecordedRefund[]): Promise<void> {
    // Only the refunds whose payment has a ticket: one read for the whole batch.
    const receiptIds = [
      ...new Set(refunds.map((r) => r.receiptId).filter((id): id is string => !!id)),
    ];
    if (!receiptIds.length) return;
    const withTicket = new Set(
      (
        (await this.db.query(
          'SELECT receipt_id FROM complaints WHERE receipt_id = ANY($1::uuid[])',
          [receiptIds],
        )) as { receipt_id: string }[]
      ).map((r) => r.receipt_id),
    );
    const tickets = new Map<string, Performer>();
    for (const refund of refunds) {
      if (!refund.receiptId || !withTicket.has(refund.receiptId)) continue;
      const ticketId = await this.recordRefundOnTrail(refund);
      if (ticketId && !tickets.has(ticketId)) tickets.set(ticketId, refundPerformer(refund));
    }
    for (const [ticketId, performer] of tickets) await this.settleIfCovered(ticketId, performer);
  }

  /** `refund_received` on the trail of the refund's open ticket, once; the ticket's id. */
  private async recordRefundOnTrail(refund: RecordedRefund): Promise<string | null> {
    // No receipt yet: no ticket either (a ticket is opened from a receipt).
    if (refund.receiptId === null) return null;
    // The refund's receipt is the one of its (provider, tradeNo): at most one ticket has it.
    const [ticket]: { id: string }[] = await this.db.query(
      'SELECT id FROM complaints WHERE receipt_id = $1',
      [refund.receiptId],
    );
    if (!ticket) return null;
    const performer = refundPerformer(refund);
    await this.transitions.transition(
      ticket.id,
      performer,
      async (t, tx) => {
        if (isTerminal(t.status)) return null;
        const [seen]: unknown[] = await tx.query(
          `SELECT 1 FROM complaint_events
            WHERE complaint_id = $1 AND type = 'refund_received' AND data->>'refundId' = $2`,
          [t.id, refund.id],
        );
        return seen ? null : 'record_refund';
      },
      async (t, now, tx) => {
        const refunded = await refundedSinceOpened(tx, t.id);
        return {
          set: {
            // A refund is the merchant's answer too (API.md: counts as its response).
            ...(t.first_response_at ? {} : { first_response_at: now }),
            ...(t.status === 'settling' ? { settlement_refunded_minor: refunded } : {}),
          },
          event: {
            type: 'refund_received',
            data: {
              refundId: refund.id,
              refundNo: refund.refundNo,
              amountMinor: refund.amountMinor,
              currency: refund.currency,
              refundedAt: refund.refundedAt,
              refundedMinor: refunded,
            },
          },
        };
      },
    );
    return ticket.id;
  }

  /** settling → resolved (settledVia "refund") when the refunds cover the money offer. */
  async settleIfCovered(id: string, performer: Performer = SETTLEMENT_WORKER): Promise<boolean> {
    let refunded = 0;
    return this.transitions.transition(
      id,
      performer,
      async (t, tx) => {
        if (t.status !== 'settling' || !isMoneyOffer(t.settlement_type)) return null;
        refunded = await refundedSinceOpened(tx, t.id);
        return refundsCover(t.settlement_type, t.settlement_amount_minor, refunded)
          ? 'settle_by_refund'
          : null;
      },
      (t, now) => settledChange(t, 'refund', refunded, now),
    );
  }

  // ---------------------------------------------------------------- deadlines

  /**
   * At settleBy: a money offer the refunds cover is settled ("refund"), an unpaid one escalated
   * (settlement_not_fulfilled); any other offer is settled with no objection.
   */
  async settleDueIfDue(id: string): Promise<'refund' | 'no_objection' | 'escalated' | false> {
    let outcome: 'refund' | 'no_objection' | 'escalated' | false = false;
    let refunded = 0;
    await this.transitions.transition(
      id,
      SETTLEMENT_WORKER,
      async (t, tx, now): Promise<TicketAction | null> => {
        if (t.status !== 'settling' || !t.settle_by || t.settle_by > now) return null;
        refunded = await refundedSinceOpened(tx, t.id);
        if (!isMoneyOffer(t.settlement_type)) return 'settle_no_objection';
        return refundsCover(t.settlement_type, t.settlement_amount_minor, refunded)
          ? 'settle_by_refund'
          : 'escalate_unsettled';
      },
      async (t, now, tx) => {
        if (!isMoneyOffer(t.settlement_type)) {
          outcome = 'no_objection';
          return settledChange(t, 'no_objection', refunded, now);
        }
        if (refundsCover(t.settlement_type, t.settlement_amount_minor, refunded)) {
          outcome = 'refund';
          return settledChange(t, 'refund', refunded, now);
        }
        outcome = 'escalated';
        const c = await this.escalations.escalation(t, now, tx, 'settlement_not_fulfilled', null);
        return { ...c, set: { ...c.set, settlement_refunded_minor: refunded } };
      },
    );
    return outcome;
  }

  /** A pending offer past expiresAt: the ticket closes as withdrawn (consumer_no_reply). */
  async expireOfferIfDue(id: string): Promise<boolean> {
    return this.onPendingOffer(
      id,
      (t, offer, now) =>
        t.status === 'in_negotiation' && offer?.expires_at && offer.expires_at <= now
          ? 'expire_offer'
          : null,
      async (offer, now, tx) => {
        await tx.query(
          `UPDATE complaint_offers SET status = 'expired', decided_at = $2 WHERE id = $1 AND status = 'pending'`,
          [offer.id, now],
        );
        return {
          set: {
            pending_offer_id: null,
            closed_at: now,
            withdraw_reason: 'consumer_no_reply',
          },
          event: {
            type: 'offer_expired',
            data: { offerId: offer.id, expiresAt: offer.expires_at!.toISOString() },
          },
        };
      },
    );
  }

  /** Halfway through a pending offer's time: one reminder event (a live update via the outbox). */
  async remindOfferIfDue(id: string): Promise<boolean> {
    return this.onPendingOffer(
      id,
      (_t, offer, now) => {
        const at = offer ? reminderAt(offer) : null;
        if (!offer || offer.reminded_at || !at || at > now) return null;
        if (offer.expires_at && offer.expires_at <= now) return null;
        return 'remind_offer';
      },
      async (offer, now, tx) => {
        await tx.query(`UPDATE complaint_offers SET reminded_at = $2 WHERE id = $1`, [
          offer.id,
          now,
        ]);
        return {
          event: {
            type: 'offer_reminder',
            data: { offerId: offer.id, expiresAt: offer.expires_at!.toISOString() },
          },
        };
      },
    );
  }

  /**
   * The worker's transition on a ticket's pending offer, read under the row lock: `decide`
   * names the action (null: nothing to do), `change` writes it with the offer it decided on.
   */
  private async onPendingOffer(
    id: string,
    decide: (t: ComplaintRow, offer: OfferRow | undefined, now: Date) => TicketAction | null,
    change: (offer: OfferRow, now: Date, tx: EntityManager) => Promise<Change>,
  ): Promise<boolean> {
    let offer: OfferRow | undefined;
    return this.transitions.transition(
      id,
      SETTLEMENT_WORKER,
      async (t, tx, now) => {
        offer = await this.pendingOffer(tx, t);
        return decide(t, offer, now);
      },
      (_t, now, tx) => change(offer!, now, tx),
    );
  }

  private async pendingOffer(
    tx: { query: DataSource['query'] },
    t: ComplaintRow,
  ): Promise<OfferRow | undefined> {
    if (!t.pending_offer_id) return undefined;
    const [offer]: OfferRow[] = await tx.query(
      `SELECT * FROM complaint_offers WHERE id = $1 AND status = 'pending'`,
      [t.pending_offer_id],
    );
    return offer;
  }

  /**
   * The worker's sweep over PostgreSQL (correctness when Redis lost a delayed job or a refund's
   * follow-up call never happened): settling tickets covered by refunds or past settleBy, offers
   * past expiry or halfway without a reminder. Each ticket through its own guarded transition,
   * which re-checks under the row lock.
   */
  async sweep(limit: number): Promise<SettlementSweepResult> {
    const now = this.clock.now();
    const result: SettlementSweepResult = { settled: 0, escalated: 0, expired: 0, reminded: 0 };
    const covered: { id: string }[] = await this.db.query(SETTLING_COVERED_SQL, [
      MONEY_OFFER_TYPES,
      limit,
    ]);
    for (const { id } of covered) if (await this.settleIfCovered(id)) result.settled++;
    const due: { id: string }[] = await this.db.query(
      `SELECT id FROM complaints WHERE status = 'settling' AND settle_by <= $1 ORDER BY settle_by LIMIT $2`,
      [now, limit],
    );
    for (const { id } of due) {
      const o = await this.settleDueIfDue(id);
      if (o === 'escalated') result.escalated++;
      else if (o) result.settled++;
    }
    const expired: { id: string }[] = await this.db.query(
      `SELECT c.id FROM complaint_offers o JOIN complaints c ON c.pending_offer_id = o.id
        WHERE o.status = 'pending' AND o.expires_at <= $1 AND c.status = 'in_negotiation'
        ORDER BY o.expires_at LIMIT $2`,
      [now, limit],
    );
    for (const { id } of expired) if (await this.expireOfferIfDue(id)) result.expired++;
    const remind: { id: string }[] = await this.db.query(
      `SELECT c.id FROM complaint_offers o JOIN complaints c ON c.pending_offer_id = o.id
        WHERE o.status = 'pending' AND o.reminded_at IS NULL AND o.expires_at > $1
          AND o.created_at + (o.expires_at - o.created_at) / 2 <= $1
        ORDER BY o.expires_at LIMIT $2`,
      [now, limit],
    );
    for (const { id } of remind) if (await this.remindOfferIfDue(id)) result.reminded++;
    if (result.settled + result.escalated + result.expired + result.reminded > 0) {
      this.logger.log(
        `settlement sweep: settled ${result.settled}, escalated ${result.escalated}, offers expired ${result.expired}, reminded ${result.reminded}`,
      );
    }
    return result;
  }

  /** For the ticket view's OFFER_RESPONSE_SLA documentation and tests. */
  get offerResponseSlaMs(): number {
    return this.config.offerResponseSlaMs;
  }
}
