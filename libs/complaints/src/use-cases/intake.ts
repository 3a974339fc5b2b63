import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedOn } from '@app/shared/prepared';
import {
  CLOCK,
  DomainError,
  HEJIE_CONFIG,
  UNIQUE_VIOLATION,
  maskPhone,
  pgCode,
  pgConstraint,
  sealFor,
} from '@app/shared';
import type { Actor, Clock, HejieConfig, Queryable } from '@app/shared';
import { assertWithinComplaintWindow, computeMerchantDeadlines } from '../lifecycle';
import { nextEvent } from '../trail';
import { ComplaintRow, ticketView } from '../complaint.row';
import { NewComplaint, REFUND_TYPES, TicketView } from '../complaint.types';
import { readIntake } from '../ticket-intake';
import { ChangeWriter } from '../changes/change-writer';
import { actorOf } from '../changes/change';
import { ReadingUseCase } from './reading';
import { checkDemand } from './shared';
import { ticketNumber } from '../ticket-number';

export interface CreateResult {
  ticket: TicketView;
  /** true when an Idempotency-Key replayed an earlier creation. */
  replayed: boolean;
}

export { ticketNumber };

/** "Initiate resolution": a receipt becomes a ticket. */
@Injectable()
export class IntakeUseCase {
  /**
   * The read and the write as named statements on the primary's pool (@app/shared/prepared):
   * parsed and planned once per connection, not on every creation.
   */
  private readonly primary: Queryable;

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly writer: ChangeWriter,
    private readonly reading: ReadingUseCase,
  ) {
    this.primary = preparedOn(db);
  }

  /**
   * "Initiate resolution": the receipt becomes a ticket with the order facts filled in, routed
   * to the store's merchant. Parallel taps on one receipt: the unique index on receipt_id
   * admits one; the others replay it (same Idempotency-Key) or get COMPLAINT_EXISTS.
   */
  async create(actor: Actor, input: NewComplaint, idempotencyKey?: string): Promise<CreateResult> {
    const now = this.clock.now();
    checkDemand(input.demand.type, input.demand.amountMinor);

    // One statement (ticket-intake.ts): the ticket under this Idempotency-Key, the receipt with
    // its store and merchant, the receipt's ticket if any, and a ticket number if one may follow.
    const intake = { consumerId: actor.sub, idempotencyKey, receiptId: input.receiptId };
    const found = await readIntake(this.primary, { ...intake, takeNumber: true });
    if (found.replay) return this.replay(found.replay, input, actor, now);

    const receipt = found.receipt;
    if (!receipt || receipt.payer_id !== actor.sub) {
      throw new DomainError('NOT_FOUND', `receipt ${input.receiptId} not found`);
    }
    // Read in the same snapshot as the key's ticket: had a parallel request with the same key
    // committed this ticket, it would have been found above as a replay.
    if (found.existingId) {
      throw new DomainError('COMPLAINT_EXISTS', `receipt ${receipt.id} already has a complaint`, {
        complaintId: found.existingId,
      });
    }
    if (!receipt.merchant_id || !receipt.store_id || !receipt.region_code) {
      throw new DomainError(
        'MERCHANT_NOT_ENROLLED',
        'the payee of this receipt is not an enrolled merchant; complain through 12315 directly',
      );
    }
    assertWithinComplaintWindow(receipt.paid_at, now, this.config.complaintWindowDays);
    const paid = Number(receipt.amount_minor);
    if (REFUND_TYPES.includes(input.demand.type) && (input.demand.amountMinor ?? 0) > paid) {
      throw new DomainError(
        'DEMAND_EXCEEDS_PAYMENT',
        `a ${input.demand.type} of ${input.demand.amountMinor} exceeds the ${paid} paid`,
        { paidMinor: paid },
        [{ field: 'demand.amountMinor', message: `must not exceed ${paid}` }],
      );
    }
    if (found.number === null) {
      throw new Error(`create: no ticket number was taken for receipt ${receipt.id}`);
    }

    const id = randomUUID();
    const { merchantRespondBy, resolveBy } = computeMerchantDeadlines(now, {
      merchantResponseSlaMs: this.config.merchantResponseSlaMs,
      resolutionSlaMs: this.config.resolutionSlaMs,
    });
    const order = {
      tradeNo: receipt.trade_no,
      provider: receipt.provider,
      amountMinor: paid,
      currency: receipt.currency,
      paidAt: receipt.paid_at.toISOString(),
      subject: receipt.subject,
      storeName: receipt.store_name ?? '',
      storeAddress: receipt.store_address ?? '',
      merchantName: receipt.merchant_name ?? '',
    };
    const event = nextEvent({ event_count: 0, head_hash: null }, 'created', actorOf(actor), now, {
      complaintId: id,
      receiptId: receipt.id,
      merchantId: receipt.merchant_id,
      category: input.category,
      demand: { type: input.demand.type, amountMinor: input.demand.amountMinor ?? null },
      description: input.description,
      contactPhoneGiven: Boolean(input.contactPhone),
      merchantRespondBy: merchantRespondBy.toISOString(),
      resolveBy: resolveBy.toISOString(),
    });
    const amount = input.demand.amountMinor;
    // The row as the INSERT will store it (the merchant's webhook payload is built from it).
    const row: ComplaintRow = {
      id,
      number: ticketNumber(now, found.number),
      status: 'awaiting_merchant',
      receipt_id: receipt.id,
      consumer_id: actor.sub,
      merchant_id: receipt.merchant_id,
      store_id: receipt.store_id,
      region_code: receipt.region_code,
      order_snapshot: order,
      category: input.category,
      demand_type: input.demand.type,
      demand_amount_minor: amount === undefined || amount === null ? null : String(amount),
      description: input.description,
      contact_phone_enc: input.contactPhone
        ? sealFor(this.config.piiKey, 'phone', id, input.contactPhone)
        : null,
      contact_phone_masked: input.contactPhone ? maskPhone(input.contactPhone) : null,
      idempotency_key: idempotencyKey ?? null,
      merchant_respond_by: merchantRespondBy,
      resolve_by: resolveBy,
      first_response_at: null,
      pending_offer_id: null,
      office_id: null,
      escalated_at: null,
      escalation_reason: null,
      accept_by: null,
      accepted_at: null,
      mediation_end_by: null,
      decline_reason: null,
      decline_detail: null,
      mediation_outcome: null,
      closed_at: null,
      event_count: event.seq,
      head_hash: event.hash,
      created_at: now,
      updated_at: now,
    };
    let created: ComplaintRow;
    try {
      // Ticket, 'created' event, outbox rows and webhook delivery: the change writer's one
      // statement (a batch of one insert), one round trip, atomic without a transaction.
      [created] = await this.writer.apply(this.primary, [
        { kind: 'insert', row, event, hooked: receipt.merchant_hooked },
      ]);
    } catch (e) {
      if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
      // Lost a race: another tap created the ticket first; none of our rows were written.
      const constraint = pgConstraint(e) ?? '';
      const winner = await readIntake(this.primary, { ...intake, takeNumber: false });
      if (winner.replay) return this.replay(winner.replay, input, actor, now);
      if (constraint.includes('receipt')) {
        throw new DomainError('COMPLAINT_EXISTS', `receipt ${receipt.id} already has a complaint`, {
          complaintId: winner.existingId ?? undefined,
        });
      }
      throw e;
    }
    // The deadline jobs (merchant response, resolution) come from the worker's outbox drain
    // when it takes this ticket's 'created' row (StatsService.drainBatch): no Redis here.
    // The answer from the row the INSERT returned: no SELECT after. The phone was sealed above
    // from the creator's own input (creators are the receipt's payer, who sees it in clear):
    // shown from the input rather than opened again.
    const view = ticketView(
      { ...created, contact_phone_enc: null },
      actor,
      this.config.piiKey,
      now,
    );
    const [ticket] = await this.reading.withSerialFlag(
      [{ ...view, contactPhone: created.contact_phone_enc ? (input.contactPhone ?? null) : null }],
      actor,
    );
    return { ticket, replayed: false };
  }

  private replay(row: ComplaintRow, input: NewComplaint, actor: Actor, now: Date): CreateResult {
    // PostgreSQL returns uuids in lower case; a client may send them in upper case.
    if (row.receipt_id !== input.receiptId.toLowerCase()) {
      throw new DomainError(
        'VALIDATION_FAILED',
        'this Idempotency-Key was already used for a complaint about another receipt',
        {},
        [{ field: 'Idempotency-Key', message: 'reused for a different request' }],
      );
    }
    return { ticket: ticketView(row, actor, this.config.piiKey, now), replayed: true };
  }
}
