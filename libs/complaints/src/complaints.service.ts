import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReadRouter } from '@app/database';
import { DataSource, EntityManager } from 'typeorm';
import {
  CLOCK,
  DEFAULT_LIMIT,
  DomainError,
  HEJIE_CONFIG,
  UNIQUE_VIOLATION,
  decodeTimeIdCursor,
  maskPhone,
  pageOf,
  pgCode,
  sealFor,
  pgConstraint,
} from '@app/shared';
import type { Actor, Clock, HejieConfig, Page } from '@app/shared';
import { DirectoryService } from '@app/directory';
import {
  ActorRole,
  TicketAction,
  TicketStatus,
  assertConsumerMayEscalate,
  assertWithinComplaintWindow,
  computeMerchantDeadlines,
  nextStatus,
} from './lifecycle';
import { EventActor, insertEvent, insertEvents, nextEvent, readTrail, verifyTrail } from './trail';
import type { PendingEvent, TrailEvent } from './trail';
import { DeadlineScheduler } from './jobs/deadline-scheduler';
import { StatsService } from './stats/stats.service';
import { MailService } from './mail/mail.service';
import { ticketNumber } from './ticket-number';
import { insertTicket, outboxPayload, readIntake } from './ticket-intake';
import { coalesce } from './jobs/coalesce';
import { viewedSince } from './views/regulator-views';
import { assertPacketComplete } from './case-packet/packet-rules';
import { enqueueWebhooks } from './webhooks/webhook-events';
import { assertOfferWithinPayment } from './offers/offer-limits';
import type { Deadline } from './jobs/deadline-scheduler';
import { ComplaintRow, OfferRow, canSee, offerView, ticketView } from './complaint.row';
import { CalendarService } from './calendar/calendar.service';
import { RulesService, TicketRules } from './rules/rules.service';
import {
  DEADLINE_FIELDS,
  DeadlineBasis,
  clampRecomputed,
  computeDeadline,
  recomputeDeadline,
  staleYears,
} from './calendar/deadlines';
import type { CalendarSnapshot } from './calendar/calendar-year';
import { acceptSpec, extensionOf, type ExtendableDeadline } from './rules/extensions';
import {
  acceptance,
  assertOfferOpen,
  readOffer,
  refundedSinceOpened,
  reminderAt,
} from './settlement/settlement-rules';
import {
  AMOUNT_TYPES,
  DeclineReason,
  DemandType,
  EscalationReason,
  NewComplaint,
  OfferView,
  REFUND_TYPES,
  TicketView,
} from './complaint.types';

export interface CreateResult {
  ticket: TicketView;
  /** true when an Idempotency-Key replayed an earlier creation. */
  replayed: boolean;
}

export interface ListQuery {
  status?: TicketStatus;
  unassigned?: boolean;
  limit?: number;
  cursor?: string;
}

/** What a state change writes besides the status: columns to set and the event to append. */
export interface Change {
  set?: Record<string, unknown>;
  event: { type: string; data: Record<string, unknown> };
  /** New clocks to watch; scheduled as delayed jobs once the transaction committed. */
  deadlines?: Deadline[];
}

/** Who acts: an HTTP caller, or the worker enforcing a deadline. */
export type Performer = Actor | { role: 'system'; sub: string };

/** A worker batch: transitions share its transaction; deadlines are scheduled after commit. */
export interface BatchContext {
  tx: EntityManager;
  deadlines: Deadline[];
}

const isSystem = (p: Performer): p is { role: 'system'; sub: string } => p.role === 'system';

/** The worker enforcing deadlines. */
const SWEEPER: Performer = { role: 'system', sub: 'deadline-worker' };

/**
 * One of the worker's escalations (DESIGN.md "Escalation": by the worker). The due rule is
 * written twice, side by side: as SQL for the sweep (`$1` = now; ordered by the deadline, the key
 * of the status's partial index) and as a check on a ticket locked by the delayed job.
 */
interface DueEscalation {
  /** The state table's action (nextStatus decides the target status). */
  action: TicketAction;
  reason: EscalationReason;
  where: string;
  deadline: 'merchant_respond_by' | 'resolve_by';
  isDue: (t: ComplaintRow, now: Date) => boolean;
}

const DUE_ESCALATIONS: readonly DueEscalation[] = [
  {
    // awaiting_merchant past merchantRespondBy (ix_complaints_due_merchant)
    action: 'escalate_no_response',
    reason: 'merchant_no_response',
    where: `status = 'awaiting_merchant' AND merchant_respond_by <= $1`,
    deadline: 'merchant_respond_by',
    isDue: (t, now) => t.status === 'awaiting_merchant' && t.merchant_respond_by <= now,
  },
  {
    // in_negotiation past resolveBy with no offer waiting for the consumer (ix_complaints_due_resolve)
    action: 'escalate_unresolved',
    reason: 'unresolved_in_time',
    where: `status = 'in_negotiation' AND resolve_by <= $1 AND pending_offer_id IS NULL`,
    deadline: 'resolve_by',
    isDue: (t, now) => t.status === 'in_negotiation' && t.resolve_by <= now && !t.pending_offer_id,
  },
];

@Injectable()
export class ComplaintsService {
  private readonly logger = new Logger(ComplaintsService.name);
  /** create()'s deadline jobs: tickets created in the same event-loop turn share one addBulk. */
  private readonly scheduleCreated = coalesce<Deadline>((d) => this.scheduler.schedule(d));

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly directory: DirectoryService,
    private readonly scheduler: DeadlineScheduler,
    private readonly stats: StatsService,
    private readonly mail: MailService,
    private readonly reads: ReadRouter,
    private readonly calendar: CalendarService,
    private readonly rules: RulesService,
  ) {}

  /**
   * Regulators and admins see whether the consumer is a serial complainant (DESIGN.md:
   * flagged to regulators only); the field does not exist in anyone else's view.
   */
  private async withSerialFlag(views: TicketView[], actor: Actor): Promise<TicketView[]> {
    if (actor.role !== 'regulator' && actor.role !== 'admin') return views;
    const serial = await this.stats.serialComplainantsAmong(views.map((v) => v.consumerId));
    return views.map((v) => ({ ...v, serialComplainant: serial.has(v.consumerId) }));
  }

  // ---------------------------------------------------------------- create

  /**
   * "Initiate resolution": the receipt becomes a ticket with the order facts filled in, routed
   * to the store's merchant. Parallel taps on one receipt: the unique index on receipt_id
   * admits one; the others replay it (same Idempotency-Key) or get COMPLAINT_EXISTS.
   */
  async create(actor: Actor, input: NewComplaint, idempotencyKey?: string): Promise<CreateResult> {
    const now = this.clock.now();
    this.checkDemand(input.demand.type, input.demand.amountMinor);

    // One statement (ticket-intake.ts): the ticket under this Idempotency-Key, the receipt with
    // its store and merchant, the receipt's ticket if any, and a ticket number if one may follow.
    const intake = { consumerId: actor.sub, idempotencyKey, receiptId: input.receiptId };
    const found = await readIntake(this.db, { ...intake, takeNumber: true });
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
      // Ticket, 'created' event, outbox row and webhook delivery: one statement, one round trip.
      created = await insertTicket(this.db, row, event, this.config.piiKey, this.mail.enabled);
    } catch (e) {
      if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
      // Lost a race: another tap created the ticket first; none of our rows were written.
      const constraint = pgConstraint(e) ?? '';
      const winner = await readIntake(this.db, { ...intake, takeNumber: false });
      if (winner.replay) return this.replay(winner.replay, input, actor, now);
      if (constraint.includes('receipt')) {
        throw new DomainError('COMPLAINT_EXISTS', `receipt ${receipt.id} already has a complaint`, {
          complaintId: winner.existingId ?? undefined,
        });
      }
      throw e;
    }
    await this.scheduleCreated([
      { complaintId: id, kind: 'merchant_response', dueAt: merchantRespondBy },
      { complaintId: id, kind: 'resolution', dueAt: resolveBy },
    ]);
    // The answer from the row the INSERT returned: no SELECT after.
    const [ticket] = await this.withSerialFlag(
      [ticketView(created, actor, this.config.piiKey, now)],
      actor,
    );
    return { ticket, replayed: false };
  }

  // ---------------------------------------------------------------- read

  async get(id: string, actor: Actor): Promise<TicketView> {
    const now = this.clock.now();
    if (actor.role === 'regulator') {
      // A regulator's view is part of the trail (who looked at the file, and when): once per
      // officer per ticket per REGULATOR_VIEW_WINDOW, decided under the row lock (views/).
      const since = new Date(now.getTime() - this.config.regulatorViewWindowMs);
      await this.db.transaction(async (tx) => {
        if (await viewedSince(tx, id, actor.sub, since)) return;
        await this.transition(
          id,
          actor,
          null,
          () => ({ event: { type: 'regulator_viewed', data: {} } }),
          { tx, deadlines: [] },
        );
      });
    }
    return this.view(id, actor, now);
  }

  async list(actor: Actor, q: ListQuery): Promise<Page<TicketView>> {
    const now = this.clock.now();
    const limit = q.limit ?? DEFAULT_LIMIT;
    const params: unknown[] = [];
    const where: string[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    // Each role has its own natural order; the cursor carries that order's key.
    let sortCol: string;
    let dir: 'ASC' | 'DESC';
    switch (actor.role) {
      case 'consumer':
        where.push(`consumer_id = ${p(actor.sub)}`);
        sortCol = 'created_at';
        dir = 'DESC';
        break;
      case 'merchant':
        where.push(`merchant_id = ${p(actor.merchantId)}`);
        // The merchant's open work, an accepted offer it still has to carry out included.
        if (!q.status) where.push(`status IN ('awaiting_merchant', 'in_negotiation', 'settling')`);
        sortCol = 'merchant_respond_by';
        dir = 'ASC';
        break;
      case 'regulator':
        where.push(`office_id = ${p(actor.officeId)}`);
        sortCol = 'escalated_at';
        dir = 'ASC';
        break;
      case 'admin':
        sortCol = q.unassigned ? 'escalated_at' : 'created_at';
        dir = q.unassigned ? 'ASC' : 'DESC';
        break;
    }
    if (q.unassigned) {
      if (actor.role !== 'admin')
        throw new DomainError('FORBIDDEN', 'the unassigned queue is for admins');
      where.push(`status = 'escalated' AND office_id IS NULL`);
    }
    if (q.status) where.push(`status = ${p(q.status)}`);
    // A forged cursor (e.g. ["1", uuid]) is a 400 before PostgreSQL casts it (see pagination).
    const cursor = decodeTimeIdCursor(q.cursor);
    if (cursor) {
      where.push(
        `(${sortCol}, id) ${dir === 'ASC' ? '>' : '<'} (${p(cursor[0])}::timestamptz, ${p(cursor[1])}::uuid)`,
      );
    }
    // A list may lag the primary by up to REPLICA_MAX_LAG: it goes to the replica when there is one.
    const rows: ComplaintRow[] = await this.reads.query(
      `SELECT * FROM complaints ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${sortCol} ${dir}, id ${dir} LIMIT ${p(limit + 1)}`,
      params,
    );
    const sortKey = (r: ComplaintRow) => (r[sortCol as keyof ComplaintRow] as Date).toISOString();
    const page = pageOf(rows, limit, (r) => [sortKey(r), r.id]);
    return {
      items: await this.withSerialFlag(
        page.items.map((r) => ticketView(r, actor, this.config.piiKey, now)),
        actor,
      ),
      nextCursor: page.nextCursor,
    };
  }

  async events(id: string, actor: Actor): Promise<TrailEvent[]> {
    await this.visibleRow(id, actor);
    return readTrail(this.db.manager, id);
  }

  async verify(
    id: string,
    actor: Actor,
  ): Promise<{ valid: boolean; length: number; firstInvalidSeq?: number }> {
    const row = await this.visibleRow(id, actor);
    const result = verifyTrail(await readTrail(this.db.manager, id), row);
    return {
      valid: result.valid,
      length: result.length,
      ...(result.firstInvalidSeq ? { firstInvalidSeq: result.firstInvalidSeq } : {}),
    };
  }

  async offers(id: string, actor: Actor): Promise<OfferView[]> {
    await this.visibleRow(id, actor);
    const rows: OfferRow[] = await this.db.query(
      'SELECT * FROM complaint_offers WHERE complaint_id = $1 ORDER BY created_at, id',
      [id],
    );
    return rows.map(offerView);
  }

  // ---------------------------------------------------------------- negotiate

  async message(id: string, actor: Actor, body: string): Promise<{ seq: number; at: string }> {
    const action: TicketAction =
      actor.role === 'consumer'
        ? 'consumer_message'
        : actor.role === 'merchant'
          ? 'merchant_message'
          : 'regulator_message';
    let appended = { seq: 0, at: '' };
    await this.transition(id, actor, action, (t, now) => {
      appended = { seq: t.event_count + 1, at: now.toISOString() };
      return {
        set: this.firstResponse(t, actor, now),
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
    this.checkDemand(offer.type, offer.amountMinor, 'amountMinor');
    const offerId = randomUUID();
    await this.transition(id, actor, 'make_offer', async (t, now, tx) => {
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
        set: { ...this.firstResponse(t, actor, now), pending_offer_id: offerId },
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
    return this.offer(offerId);
  }

  /**
   * Accepting an offer → settling until settleBy (SETTLEMENT_SLA), or straight to resolved when
   * the refunds recorded since the ticket was opened already cover it (settlement/). An expired
   * offer can no longer be accepted.
   */
  async acceptOffer(id: string, actor: Actor, offerId: string): Promise<TicketView> {
    let offer: OfferRow | undefined;
    let refunded = 0;
    await this.transition(
      id,
      actor,
      async (t, tx, now) => {
        this.requirePending(t, offerId);
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
    return this.view(id, actor, this.clock.now());
  }

  async rejectOffer(
    id: string,
    actor: Actor,
    offerId: string,
    reason?: string,
  ): Promise<TicketView> {
    await this.transition(id, actor, 'reject_offer', async (t, now, tx) => {
      this.requirePending(t, offerId);
      await tx.query(
        `UPDATE complaint_offers SET status = 'rejected', reject_reason = $3, decided_at = $2 WHERE id = $1`,
        [offerId, now, reason ?? null],
      );
      return {
        set: { pending_offer_id: null },
        event: { type: 'offer_rejected', data: { offerId, reason: reason ?? null } },
      };
    });
    return this.view(id, actor, this.clock.now());
  }

  async withdraw(id: string, actor: Actor, reason?: string): Promise<TicketView> {
    await this.transition(id, actor, 'withdraw', async (t, now, tx) => {
      await this.lapsePendingOffer(t, now, tx);
      return {
        set: { pending_offer_id: null, closed_at: now, withdraw_reason: 'consumer' },
        event: { type: 'withdrawn', data: { reason: reason ?? null } },
      };
    });
    return this.view(id, actor, this.clock.now());
  }

  // ---------------------------------------------------------------- escalate

  /**
   * The consumer's "one more tap". `alongside` runs in the same transaction after the
   * escalation (the complainant's details given with it: both are written, or neither).
   */
  async escalate(
    id: string,
    actor: Actor,
    reason: string,
    alongside?: (tx: EntityManager) => Promise<void>,
  ): Promise<TicketView> {
    const ctx: BatchContext = { tx: undefined as unknown as EntityManager, deadlines: [] };
    await this.db.transaction(async (tx) => {
      ctx.tx = tx;
      await this.transition(
        id,
        actor,
        'escalate',
        async (t, now, ltx) => {
          assertConsumerMayEscalate({
            status: t.status,
            merchantRespondBy: t.merchant_respond_by,
            firstResponseAt: t.first_response_at,
            now,
          });
          return this.escalation(t, now, ltx, 'consumer_request', reason);
        },
        ctx,
      );
      if (alongside) await alongside(tx);
    });
    await this.scheduler.schedule(ctx.deadlines);
    return this.view(id, actor, this.clock.now());
  }

  /**
   * The worker's escalation of a ticket whose deadline passed. Re-checks under the row lock;
   * returns false (and changes nothing) when the ticket is no longer due — another worker or
   * the consumer got there first, or the merchant answered in time.
   */
  async escalateIfDue(id: string, outer?: BatchContext): Promise<EscalationReason | false> {
    let outcome: EscalationReason | false = false;
    let rule: DueEscalation | undefined;
    await this.transition(
      id,
      SWEEPER,
      (t) => {
        rule = DUE_ESCALATIONS.find((r) => r.isDue(t, this.clock.now()));
        return rule?.action ?? null;
      },
      async (t, now, tx) => {
        if (!rule) throw new Error('escalateIfDue: no rule decided under the lock');
        outcome = rule.reason;
        return this.escalation(t, now, tx, outcome, null);
      },
      outer,
    );
    return outcome;
  }

  // ---------------------------------------------------------------- regulator

  async acceptCase(id: string, actor: Actor): Promise<TicketView> {
    const calendar = await this.calendar.snapshot();
    await this.transition(id, actor, 'accept_case', async (t, now, tx) => {
      // 422 CASE_PACKET_INCOMPLETE naming what is missing (case-packet/packet-rules.ts).
      await assertPacketComplete(tx, t);
      const rules = this.rules.ticketRules(t);
      const { at: mediationEndBy, basis } = computeDeadline(calendar, now, {
        workdays: rules.limits.mediationWorkdays,
        ruleSet: rules.ruleSet,
      });
      return {
        set: {
          accepted_at: now,
          mediation_end_by: mediationEndBy,
          deadline_basis: withBasis(t, 'mediationEndBy', basis),
        },
        event: {
          type: 'accepted',
          data: { officeId: actor.officeId ?? null, mediationEndBy: mediationEndBy.toISOString() },
        },
        deadlines: [{ complaintId: id, kind: 'mediation', dueAt: mediationEndBy }],
      };
    });
    return this.view(id, actor, this.clock.now());
  }

  async decline(
    id: string,
    actor: Actor,
    reason: DeclineReason,
    detail?: string,
  ): Promise<TicketView> {
    await this.transition(id, actor, 'decline', (_t, now) => ({
      set: {
        decline_reason: reason,
        decline_detail: detail ?? null,
        closed_at: now,
        ...decidedBy(actor, now),
      },
      event: { type: 'declined', data: { reason, detail: detail ?? null } },
    }));
    return this.view(id, actor, this.clock.now());
  }

  /** Hands the case to another office, which gets its own acceptance period from now. */
  async transfer(id: string, actor: Actor, officeId: string): Promise<TicketView> {
    await this.directory.getOffice(officeId);
    const calendar = await this.calendar.snapshot();
    await this.transition(id, actor, 'transfer', (t, now) => {
      if (t.office_id === officeId) {
        throw new DomainError('VALIDATION_FAILED', 'the ticket is already with that office', {}, [
          { field: 'officeId', message: 'same office' },
        ]);
      }
      // The ticket keeps the rule set it was escalated under (API.md), whatever the new office's.
      const accept = this.acceptBy(calendar, now, this.rules.ticketRules(t));
      const acceptBy = accept.at;
      return {
        set: {
          office_id: officeId,
          accept_by: acceptBy,
          deadline_basis: withBasis(t, 'acceptBy', accept.basis),
        },
        event: {
          type: 'transferred',
          data: { from: t.office_id, to: officeId, acceptBy: acceptBy.toISOString() },
        },
        deadlines: [{ complaintId: id, kind: 'acceptance', dueAt: acceptBy }],
      };
    });
    // The caller may no longer see it; answer with what the new office sees.
    return this.view(id, { role: 'admin', sub: actor.sub }, this.clock.now(), actor);
  }

  async recordMediation(
    id: string,
    actor: Actor,
    outcome: 'agreement' | 'failed',
    note?: string,
    settlement?: string,
  ): Promise<TicketView> {
    const action: TicketAction =
      outcome === 'agreement' ? 'record_mediation_agreement' : 'record_mediation_failure';
    await this.transition(id, actor, action, (_t, now) => {
      const result = {
        outcome,
        reason: outcome === 'failed' ? 'no_agreement' : null,
        note: note ?? null,
        settlement: settlement ?? null,
      };
      return {
        set: {
          mediation_outcome: JSON.stringify(result),
          closed_at: now,
          ...decidedBy(actor, now),
        },
        event: { type: outcome === 'agreement' ? 'mediated' : 'mediation_failed', data: result },
      };
    });
    return this.view(id, actor, this.clock.now());
  }

  /** Worker: mediation that ran past its working-day limit is terminated. */
  async terminateMediationIfDue(id: string, outer?: BatchContext): Promise<boolean> {
    let done = false;
    await this.transition(
      id,
      { role: 'system', sub: 'deadline-worker' },
      (t) =>
        t.status === 'mediating' && t.mediation_end_by && t.mediation_end_by <= this.clock.now()
          ? 'terminate_mediation_timeout'
          : null,
      (_t, now) => {
        done = true;
        const result = { outcome: 'failed', reason: 'time_limit', note: null, settlement: null };
        return {
          set: {
            mediation_outcome: JSON.stringify(result),
            closed_at: now,
            ...decidedBy({ role: 'system', sub: 'system' }, now),
          },
          event: { type: 'mediation_failed', data: result },
        };
      },
      outer,
    );
    return done;
  }

  // ---------------------------------------------------------------- deadlines (issue 15)

  /**
   * POST /v1/complaints/:id/extend: the office extends the running deadline once, by 1 to the
   * ticket's set's maximum working days, with a reason the consumer sees (rules/extensions.ts).
   * One guarded write with its `deadline_extended` event.
   */
  async extend(
    id: string,
    actor: Actor,
    deadline: ExtendableDeadline,
    workdays: number,
    reason: string,
  ): Promise<TicketView> {
    const calendar = await this.calendar.snapshot();
    await this.transition(id, actor, 'extend_deadline', (t, now) => {
      const rules = this.rules.ticketRules(t);
      const field = DEADLINE_FIELDS[deadline];
      const old = t[field.column as 'accept_by' | 'mediation_end_by'];
      const current = t.deadline_basis?.[deadline] as DeadlineBasis | undefined;
      extensionOf(t, deadline, workdays, rules, current?.from);
      // The limit as counted so far (its basis), or — a ticket from before bases existed —
      // counted again from its start under its set.
      const base: DeadlineBasis =
        current ??
        (deadline === 'acceptBy'
          ? this.acceptBy(calendar, t.escalated_at ?? now, rules).basis
          : computeDeadline(calendar, t.accepted_at ?? now, {
              workdays: rules.limits.mediationWorkdays,
              ruleSet: rules.ruleSet,
            }).basis);
      const next = recomputeDeadline(calendar, { ...base, workdays: base.workdays + workdays });
      const entry = {
        deadline,
        workdays,
        reason,
        at: now.toISOString(),
        by: { role: actor.role, id: actor.sub },
        from: old ? old.toISOString() : null,
        to: next.at.toISOString(),
      };
      const extensions = [...(Array.isArray(t.extensions) ? t.extensions : []), entry];
      return {
        set: {
          [field.column]: next.at,
          deadline_basis: withBasis(t, deadline, next.basis),
          extensions: JSON.stringify(extensions),
        },
        event: { type: 'deadline_extended', data: entry },
        deadlines: [{ complaintId: id, kind: field.kind as Deadline['kind'], dueAt: next.at }],
      };
    });
    return this.view(id, actor, this.clock.now());
  }

  /**
   * A year's official calendar was loaded (or a newer version of it): the running deadlines
   * counted on an estimate or an older version of a year are recomputed, each exactly once, with
   * an event `deadline_changed` { field, from, to, calendarVersion } — also when the date stays
   * (the trail records that it is now official). Rows are taken FOR UPDATE SKIP LOCKED and
   * re-checked under the lock, so parallel workers never change a ticket twice; none moves into
   * the past (clampRecomputed). Returns how many tickets changed (fewer than `limit`: done).
   */
  async rebaseBatch(limit: number): Promise<{ changed: number }> {
    const calendar = await this.calendar.snapshot(true);
    const latest = calendar.latestVersions();
    const ctx: BatchContext = { tx: undefined as unknown as EntityManager, deadlines: [] };
    const changed = await this.db.transaction(async (tx) => {
      ctx.tx = tx;
      const where = Object.entries(DEADLINE_FIELDS).map(
        ([field, f]) =>
          `(status = '${f.status}' AND EXISTS (SELECT 1 FROM jsonb_each_text(deadline_basis->'${field}'->'years') y
             WHERE y.value::int < coalesce(($1::jsonb ->> y.key)::int, 0)))`,
      );
      const rows: { id: string }[] = await tx.query(
        `SELECT id FROM complaints WHERE deadline_basis <> '{}'::jsonb AND (${where.join(' OR ')})
          LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [JSON.stringify(latest), limit],
      );
      let n = 0;
      for (const { id } of rows) {
        let stale: [string, DeadlineBasis][] = [];
        const done = await this.transition(
          id,
          SWEEPER,
          (t) => {
            stale = [];
            for (const [field, f] of Object.entries(DEADLINE_FIELDS)) {
              const b = t.deadline_basis?.[field] as DeadlineBasis | undefined;
              if (f.status === t.status && b && staleYears(b, latest).length)
                stale.push([field, b]);
            }
            return stale.length ? 'recompute_deadline' : null;
          },
          (t, now) => {
            // One deadline runs per status: the first stale one is it.
            const [field, basis] = stale[0];
            const f = DEADLINE_FIELDS[field];
            const old = t[f.column as 'accept_by' | 'mediation_end_by'] as Date;
            const next = recomputeDeadline(calendar, basis);
            const to = clampRecomputed(next.at, old, now);
            const calendarVersion = Math.max(
              ...staleYears(basis, latest).map((y) => latest[y] ?? 0),
            );
            return {
              set: { [f.column]: to, deadline_basis: withBasis(t, field, next.basis) },
              event: {
                type: 'deadline_changed',
                data: {
                  field,
                  from: old.toISOString(),
                  to: to.toISOString(),
                  calendarVersion,
                  basis: next.basis.basis,
                  ...(to.getTime() !== next.at.getTime()
                    ? { clamped: true, computed: next.at.toISOString() }
                    : {}),
                },
              },
              deadlines: [{ complaintId: id, kind: f.kind as Deadline['kind'], dueAt: to }],
            };
          },
          ctx,
        );
        if (done) n++;
      }
      return n;
    });
    await this.scheduler.schedule(ctx.deadlines);
    return { changed };
  }

  /** Open deadlines (running in their status) counted on an estimate, per field: a gauge. */
  async countEstimatedDeadlines(): Promise<{ field: string; n: number }[]> {
    const out: { field: string; n: number }[] = [];
    for (const [field, f] of Object.entries(DEADLINE_FIELDS)) {
      const [{ n }]: { n: string }[] = await this.db.query(
        `SELECT count(*) AS n FROM complaints WHERE status = $1 AND deadline_basis->$2->>'basis' = 'estimated'`,
        [f.status, field],
      );
      out.push({ field, n: Number(n) });
    }
    return out;
  }

  /**
   * An event without a state change (evidence, the complainant's details), appended through
   * transition() in the caller's transaction `tx`: the ticket row locked, the guarded UPDATE of
   * its chain head, the event and the outbox rows. `change` runs under the lock and may refuse.
   */
  async recordEvent(
    tx: EntityManager,
    id: string,
    actor: Actor,
    change: (t: ComplaintRow, now: Date, tx: EntityManager) => Change | Promise<Change>,
  ): Promise<void> {
    // No deadlines come from such events (none would be scheduled: the caller owns the commit).
    await this.transition(id, actor, null, change, { tx, deadlines: [] });
  }

  // ---------------------------------------------------------------- internals

  /**
   * One state change = one transaction: lock the ticket, ask the state table, apply, then a
   * guarded `UPDATE … WHERE status = <expected>` and the event. `action` null appends an event
   * without a state change (a regulator's view); a function decides the action under the lock
   * (the worker, settlement/), returning null for "nothing to do". Used by settlement/ too, so
   * that every ticket write is this one path.
   */
  /** @internal Also the path of the appeals service (appeals/appeals.service.ts). */
  async transition(
    id: string,
    performer: Performer,
    action:
      | TicketAction
      | null
      | ((
          t: ComplaintRow,
          tx: EntityManager,
          now: Date,
        ) => TicketAction | null | Promise<TicketAction | null>),
    change: (t: ComplaintRow, now: Date, tx: EntityManager) => Change | Promise<Change>,
    outer?: BatchContext,
  ): Promise<boolean> {
    let deadlines: Deadline[] = [];
    const work = async (tx: EntityManager): Promise<boolean> => {
      const [t]: ComplaintRow[] = await tx.query(
        'SELECT * FROM complaints WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!t || (!isSystem(performer) && !canSee(t, performer))) {
        throw new DomainError('NOT_FOUND', `complaint ${id} not found`);
      }
      const now = this.clock.now();
      const resolved = typeof action === 'function' ? await action(t, tx, now) : action;
      if (typeof action === 'function' && resolved === null) return false;
      const next = resolved
        ? allowedNext(t.status, resolved, performer.role as ActorRole)
        : t.status;
      const c = await change(t, now, tx);
      const { event, set } = applyChange(t, next, c, performer, now);
      const cols = Object.keys(set);
      const params = [id, t.status, ...cols.map((k) => set[k])];
      const assignments = cols.map(
        (k, i) => `${k} = $${i + 3}${JSONB_COLUMNS.has(k) ? '::jsonb' : ''}`,
      );
      // Guarded: only from the status we read, so racing actions leave exactly one winner.
      // TypeORM answers an UPDATE with [rows, rowCount].
      const [updated]: [unknown[], number] = await tx.query(
        `UPDATE complaints SET ${assignments.join(', ')} WHERE id = $1 AND status = $2 RETURNING id`,
        params,
      );
      if (!updated.length) {
        throw new DomainError('INVALID_TRANSITION', `complaint ${id} changed state meanwhile`);
      }
      await insertEvent(tx, id, event);
      // The row as this transaction leaves it (the guarded UPDATE wrote exactly `set`).
      await this.writeOutbox(tx, { ...t, ...set } as ComplaintRow, event);
      deadlines = c.deadlines ?? [];
      return true;
    };
    const changed = outer ? await work(outer.tx) : await this.db.transaction(work);
    if (changed && !outer) await this.scheduler.schedule(deadlines);
    else if (changed && outer) outer.deadlines.push(...deadlines);
    return changed;
  }

  /**
   * The transactional outbox: every event is recorded for the statistics rollups in the same
   * transaction, so a rollup can never miss or double-count it; the events a merchant's webhook
   * is told about are queued for delivery in that transaction too.
   */
  private async writeOutbox(
    tx: EntityManager,
    t: ComplaintRow,
    event: PendingEvent,
  ): Promise<void> {
    await this.writeOutboxes(tx, [{ ticket: t, event }]);
  }

  /** writeOutbox for many tickets' events: one statement for the outbox rows, one for webhooks. */
  private async writeOutboxes(
    tx: EntityManager,
    items: readonly { ticket: ComplaintRow; event: PendingEvent }[],
  ): Promise<void> {
    if (!items.length) return;
    await tx.query(
      `INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, created_at)
       SELECT 'stats', * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::timestamptz[])`,
      [
        items.map(({ ticket }) => ticket.id),
        items.map(({ event }) => event.seq),
        items.map(({ event }) => event.type),
        items.map(({ ticket, event }) => outboxPayload(ticket, event)),
        items.map(({ event }) => event.at),
      ],
    );
    await enqueueWebhooks(tx, items, this.config.piiKey);
    // Merchant e-mail (SMTP_URL set): through the outbox too, in this transaction.
    await this.mail.enqueue(tx, items);
  }

  /** @internal The write of an escalation (also settlement/: disputes, unfulfilled settlements). */
  async escalation(
    t: ComplaintRow,
    now: Date,
    tx: EntityManager,
    reason: EscalationReason,
    consumerReason: string | null,
  ): Promise<Change> {
    await this.lapsePendingOffers(tx, [t], now);
    const officeId = await this.directory.routeOffice(t.region_code);
    const rules = (await this.rules.forOffices([officeId])).get(officeId)!;
    const accept = this.acceptBy(await this.calendar.snapshot(), now, rules);
    if (!officeId) this.warnUnassigned(t);
    return escalationChange(t, now, reason, consumerReason, officeId, accept, rules);
  }

  /** acceptBy from `now` under a ticket's rules (working days, or hours for an hour limit). */
  private acceptBy(
    calendar: CalendarSnapshot,
    now: Date,
    rules: TicketRules,
    extraWorkdays = 0,
  ): { at: Date; basis: DeadlineBasis } {
    return computeDeadline(calendar, now, acceptSpec(rules, extraWorkdays));
  }

  private warnUnassigned(t: ComplaintRow): void {
    this.logger.warn(`no office covers region ${t.region_code}; ticket ${t.id} waits unassigned`);
  }

  private async lapsePendingOffer(t: ComplaintRow, now: Date, tx: EntityManager): Promise<void> {
    await this.lapsePendingOffers(tx, [t], now);
  }

  /** The pending offers of tickets leaving the merchant phase lapse (one statement, if any). */
  private async lapsePendingOffers(
    tx: EntityManager,
    tickets: readonly ComplaintRow[],
    now: Date,
  ): Promise<void> {
    const offers = tickets.flatMap((t) => (t.pending_offer_id ? [t.pending_offer_id] : []));
    if (!offers.length) return;
    await tx.query(
      `UPDATE complaint_offers SET status = 'lapsed', decided_at = $2 WHERE id = ANY($1::uuid[]) AND status = 'pending'`,
      [offers, now],
    );
  }

  private firstResponse(t: ComplaintRow, actor: Actor, now: Date): Record<string, unknown> {
    return actor.role === 'merchant' && !t.first_response_at ? { first_response_at: now } : {};
  }

  private requirePending(t: ComplaintRow, offerId: string): void {
    if (t.pending_offer_id !== offerId) {
      throw new DomainError(
        'INVALID_TRANSITION',
        `offer ${offerId} is not the pending offer of this complaint`,
      );
    }
  }

  private checkDemand(
    type: DemandType,
    amountMinor: number | null | undefined,
    field = 'demand.amountMinor',
  ): void {
    if (AMOUNT_TYPES.includes(type) && (amountMinor === undefined || amountMinor === null)) {
      throw new DomainError('VALIDATION_FAILED', `${field} is required for ${type}`, {}, [
        { field, message: `required for ${type}` },
      ]);
    }
    if (AMOUNT_TYPES.includes(type) && amountMinor === 0) {
      throw new DomainError('VALIDATION_FAILED', `${field} must be positive for ${type}`, {}, [
        { field, message: 'must be positive' },
      ]);
    }
  }

  private async replay(
    row: ComplaintRow,
    input: NewComplaint,
    actor: Actor,
    now: Date,
  ): Promise<CreateResult> {
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

  private async visibleRow(id: string, actor: Actor): Promise<ComplaintRow> {
    const [row]: ComplaintRow[] = await this.db.query('SELECT * FROM complaints WHERE id = $1', [
      id,
    ]);
    if (!row || !canSee(row, actor))
      throw new DomainError('NOT_FOUND', `complaint ${id} not found`);
    return row;
  }

  /** @internal The answer of an action (also used by the appeals service). */
  async view(id: string, actor: Actor, now: Date, viewer: Actor = actor): Promise<TicketView> {
    const [row]: ComplaintRow[] = await this.db.query('SELECT * FROM complaints WHERE id = $1', [
      id,
    ]);
    if (!row || !canSee(row, actor))
      throw new DomainError('NOT_FOUND', `complaint ${id} not found`);
    // Every single-ticket answer (reads and actions) carries the regulator-only flag.
    const [view] = await this.withSerialFlag(
      [ticketView(row, viewer, this.config.piiKey, now)],
      viewer,
    );
    return view;
  }

  private async offer(id: string): Promise<OfferView> {
    const [row]: OfferRow[] = await this.db.query('SELECT * FROM complaint_offers WHERE id = $1', [
      id,
    ]);
    return offerView(row);
  }

  /**
   * One batch of the sweep: overdue tickets locked with FOR UPDATE SKIP LOCKED (so parallel
   * workers take disjoint rows) and handled in this one transaction — escalations set-based
   * (escalateLocked), mediation time limits ticket by ticket. Returns once committed, with how
   * many tickets changed (fewer than `limit`: nothing overdue was left unlocked) and `scheduled`,
   * the deadline jobs' addBulk started after commit (it never rejects): the sweep goes on with
   * its next batch meanwhile and awaits them at its end.
   */
  async sweepBatch(
    limit: number,
  ): Promise<{ escalated: number; terminated: number; scheduled: Promise<void> }> {
    const now = this.clock.now();
    const ctx: BatchContext = { tx: undefined as unknown as EntityManager, deadlines: [] };
    const result = await this.db.transaction(async (tx) => {
      ctx.tx = tx;
      // Whole rows, locked and checked against the due predicate in the same statement
      // (PostgreSQL re-checks a row that changed before the lock): nothing to re-read.
      const due: { t: ComplaintRow; rule: DueEscalation }[] = [];
      for (const rule of DUE_ESCALATIONS) {
        if (due.length >= limit) break;
        const rows: ComplaintRow[] = await tx.query(
          `SELECT * FROM complaints WHERE ${rule.where}
            ORDER BY ${rule.deadline} LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now, limit - due.length],
        );
        for (const t of rows) due.push({ t, rule });
      }
      const escalated = await this.escalateLocked(ctx, due, now);
      let terminated = 0;
      const mediation: { id: string }[] =
        limit > escalated
          ? await tx.query(
              `SELECT id FROM complaints WHERE status = 'mediating' AND mediation_end_by <= $1
                ORDER BY mediation_end_by LIMIT $2 FOR UPDATE SKIP LOCKED`,
              [now, limit - escalated],
            )
          : [];
      for (const { id } of mediation) if (await this.terminateMediationIfDue(id, ctx)) terminated++;
      return { escalated, terminated };
    });
    // Started on the next turn of the event loop: the caller first sees the result (and logs it).
    const scheduled = new Promise<void>((go) => setImmediate(go)).then(() =>
      this.scheduler.schedule(ctx.deadlines),
    );
    return { ...result, scheduled };
  }

  /**
   * The sweep's escalations, set-based: the same writes as escalateIfDue makes ticket by ticket
   * (escalationChange, applyChange), with one statement per kind of write for the whole batch.
   * `due` are rows this transaction locked and found due; the events chain from them.
   */
  private async escalateLocked(
    ctx: BatchContext,
    due: readonly { t: ComplaintRow; rule: DueEscalation }[],
    now: Date,
  ): Promise<number> {
    if (!due.length) return 0;
    const { tx } = ctx;
    const tickets = due.map(({ t }) => t);
    await this.lapsePendingOffers(tx, tickets, now);
    const offices = await this.directory.routeOffices(tickets.map((t) => t.region_code));
    const rulesOf = await this.rules.forOffices([...offices.values(), null]);
    const calendar = await this.calendar.snapshot();
    // One acceptBy per rule set: every ticket of the batch escalates at the same `now`.
    const acceptBySet = new Map<string, { at: Date; basis: DeadlineBasis }>();
    const changes = due.map(({ t, rule }) => {
      const officeId = offices.get(t.region_code) ?? null;
      if (!officeId) this.warnUnassigned(t);
      const next = allowedNext(t.status, rule.action, 'system');
      const rules = rulesOf.get(officeId) ?? rulesOf.get(null)!;
      let accept = acceptBySet.get(rules.ruleSet);
      if (!accept) {
        accept = this.acceptBy(calendar, now, rules);
        acceptBySet.set(rules.ruleSet, accept);
      }
      const c = escalationChange(t, now, rule.reason, null, officeId, accept, rules);
      return { t, deadlines: c.deadlines ?? [], ...applyChange(t, next, c, SWEEPER, now) };
    });
    const updated = await guardedUpdateMany(
      tx,
      changes.map(({ t, set }) => ({ id: t.id, expected: t.status, set })),
    );
    const missed = changes.filter(({ t }) => !updated.has(t.id));
    if (missed.length || updated.size !== changes.length) {
      // Under our row locks this cannot happen; if it does, write nothing for the batch.
      throw new Error(
        `sweep: the guarded UPDATE changed ${updated.size} of ${changes.length} locked tickets` +
          (missed.length ? ` (not ${missed[0].t.id})` : ''),
      );
    }
    await insertEvents(
      tx,
      changes.map(({ t, event }) => ({ complaintId: t.id, event })),
    );
    // Each row as this transaction leaves it (the guarded UPDATE wrote exactly `set`).
    await this.writeOutboxes(
      tx,
      changes.map(({ t, set, event }) => ({ ticket: { ...t, ...set } as ComplaintRow, event })),
    );
    for (const { deadlines } of changes) ctx.deadlines.push(...deadlines);
    return changes.length;
  }

  /** Escalated tickets past acceptBy without a decision (flagged on the queue; a metric). */
  async countAcceptanceOverdue(): Promise<{ officeId: string | null; n: number }[]> {
    const rows: { office_id: string | null; n: string }[] = await this.db.query(
      `SELECT office_id, count(*) AS n FROM complaints WHERE status = 'escalated' AND accept_by < $1 GROUP BY office_id`,
      [this.clock.now()],
    );
    return rows.map((r) => ({ officeId: r.office_id, n: Number(r.n) }));
  }
}

/**
 * nextStatus, with the refusal's details renamed: the state table reports the current status as
 * `status`, and the problem filter spreads a DomainError's extras into the RFC 9457 body, where
 * `status` is the HTTP status. `status: "resolved"` there turned every INVALID_TRANSITION into
 * a 500.
 */
function allowedNext(from: TicketStatus, action: TicketAction, role: ActorRole): TicketStatus {
  try {
    return nextStatus(from, action, role);
  } catch (e) {
    if (e instanceof DomainError && e.code === 'INVALID_TRANSITION') {
      throw new DomainError('INVALID_TRANSITION', e.message, {
        ticketStatus: from,
        action,
        actor: role,
      });
    }
    throw e;
  }
}

/**
 * Who made a decision the consumer may appeal (declined, mediation_failed): the officer's (or
 * admin's) `sub`; `system` for the worker's time-limit termination. The appeal is decided by
 * someone else (appeals/appeal-policy.ts).
 */
function decidedBy(p: Performer, now: Date): { decided_by: string; decided_at: Date } {
  return { decided_by: p.role === 'system' ? 'system' : p.sub, decided_at: now };
}

function actorOf(p: Performer): EventActor {
  return { role: p.role, id: p.sub };
}

/**
 * What an escalation sets and records, once it is decided where the ticket goes (`officeId`, null
 * when no office covers its region) and by when that office must decide (`acceptBy`). Shared by
 * the consumer's escalation, the delayed job and the sweep's batches.
 */
/** The ticket's deadline_basis with `field` set, as the JSON text a jsonb column takes. */
function withBasis(
  t: Pick<ComplaintRow, 'deadline_basis'>,
  field: string,
  basis: DeadlineBasis,
): string {
  return JSON.stringify({ ...(t.deadline_basis ?? {}), [field]: basis });
}

function escalationChange(
  t: Pick<ComplaintRow, 'id' | 'deadline_basis'>,
  now: Date,
  reason: EscalationReason,
  consumerReason: string | null,
  officeId: string | null,
  accept: { at: Date; basis: DeadlineBasis },
  rules: TicketRules,
): Change {
  const acceptBy = accept.at;
  return {
    set: {
      pending_offer_id: null,
      office_id: officeId,
      escalated_at: now,
      escalation_reason: reason,
      accept_by: acceptBy,
      rule_set: rules.ruleSet,
      rule_limits: JSON.stringify(rules.limits),
      deadline_basis: withBasis(t, 'acceptBy', accept.basis),
    },
    event: {
      type: 'escalated',
      data: {
        reason,
        consumerReason,
        officeId,
        acceptBy: acceptBy.toISOString(),
        ruleSet: rules.ruleSet,
        acceptByBasis: accept.basis.basis,
      },
    },
    deadlines: [{ complaintId: t.id, kind: 'acceptance', dueAt: acceptBy }],
  };
}

/**
 * A Change applied to a locked row going to `next`: the next event of its trail (from/to added
 * when the status moves) and every column the guarded UPDATE sets, the new chain head included.
 */
function applyChange(
  t: ComplaintRow,
  next: TicketStatus,
  c: Change,
  performer: Performer,
  now: Date,
): { event: PendingEvent; set: Record<string, unknown> } {
  const event = nextEvent(t, c.event.type, actorOf(performer), now, {
    ...c.event.data,
    ...(next !== t.status ? { from: t.status, to: next } : {}),
  });
  const set: Record<string, unknown> = {
    ...c.set,
    status: next,
    event_count: event.seq,
    head_hash: event.hash,
    updated_at: now,
  };
  return { event, set };
}

/** Ticket columns of type jsonb: a Change sets them as JSON text. */
const JSONB_COLUMNS: ReadonlySet<string> = new Set([
  'mediation_outcome',
  'rule_limits',
  'deadline_basis',
  'extensions',
]);

/** PostgreSQL types of the ticket columns a batched transition may set (unnest takes typed arrays). */
const BATCH_COLUMN_TYPES: Readonly<Record<string, string>> = {
  status: 'text',
  pending_offer_id: 'uuid',
  office_id: 'uuid',
  escalated_at: 'timestamptz',
  escalation_reason: 'text',
  accept_by: 'timestamptz',
  rule_set: 'text',
  rule_limits: 'jsonb',
  deadline_basis: 'jsonb',
  event_count: 'int',
  head_hash: 'text',
  updated_at: 'timestamptz',
};

/**
 * transition()'s guarded UPDATE for many tickets in one statement: each ticket changes only from
 * the status it was read in (`expected`). Every row sets the same columns. Returns the ids the
 * statement really updated.
 */
async function guardedUpdateMany(
  tx: EntityManager,
  rows: readonly { id: string; expected: TicketStatus; set: Record<string, unknown> }[],
): Promise<Set<string>> {
  if (!rows.length) return new Set();
  const cols = Object.keys(rows[0].set);
  const types = cols.map((c) => {
    const type = BATCH_COLUMN_TYPES[c];
    if (!type) throw new Error(`guardedUpdateMany: no type known for column ${c}`);
    return type;
  });
  for (const { set } of rows) {
    const keys = Object.keys(set);
    if (keys.length !== cols.length || keys.some((k) => !cols.includes(k))) {
      throw new Error('guardedUpdateMany: every row must set the same columns');
    }
  }
  // TypeORM answers an UPDATE with [rows, rowCount].
  const [updated]: [{ id: string }[], number] = await tx.query(
    `UPDATE complaints c SET ${cols.map((c) => `${c} = u.${c}`).join(', ')}
       FROM unnest($1::uuid[], $2::text[], ${types.map((t, i) => `$${i + 3}::${t}[]`).join(', ')})
            AS u(id, expected, ${cols.join(', ')})
      WHERE c.id = u.id AND c.status = u.expected
     RETURNING c.id`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.expected),
      ...cols.map((c) => rows.map((r) => r.set[c] ?? null)),
    ],
  );
  return new Set(updated.map((r) => r.id));
}

export { ticketNumber };
