/*
 * A believable 90-day history for the demo merchants, so the statistics are not one bar on the
 * last day: a few hundred closed tickets spread over the past days (more at weekends), most
 * settled by the merchant — by a refund the platform saw, the consumer's confirmation, or no
 * objection — some escalated to the district's office and mediated there, some withdrawn.
 *
 * Written in bulk (one statement per table) with the rows the app itself writes: receipts,
 * complaints in their final state, offers, refunds, the trail events with a valid hash chain
 * (nextEvent, so GET …/events/verify says valid) and one `stats` outbox row per event, which
 * the worker's outbox drain turns into the rollups exactly as for live tickets. No webhook or
 * mail rows: merchants are not told about the past. Idempotent (marked by its idempotency key).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { ticketNumber } from '../libs/complaints/src/ticket-number';
import {
  TICKET_INSERT_COLUMNS,
  insertTicketsSql,
  ticketPatches,
} from '../libs/complaints/src/changes/change-writer';
import type { TicketColumns } from '../libs/complaints/src/changes/change-writer';
import { nextEvent } from '../libs/complaints/src/trail/trail.store';
import type { EventActor } from '../libs/complaints/src/trail/trail.store';
import type { TrailEvent } from '../libs/complaints/src/trail/hash-chain';

/** The idempotency key of every history ticket: how a second seed knows it ran. */
export const HISTORY_KEY = 'demo-history';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface HistoryOptions {
  /** Days back from `now` (the history ends yesterday; today is left to the live demo). */
  days?: number;
  now?: Date;
  /** PRNG seed: the same seed, the same history. */
  seed?: number;
  /** Mean tickets per merchant on a weekday (weekends: × 1.7). */
  perDay?: number;
  /** Only these merchants (default: every merchant with a `sunmi-pos` account). */
  merchantIds?: string[];
}

export interface HistoryResult {
  tickets: number;
  events: number;
  skipped: boolean;
}

/** mulberry32: small, seedable, good enough for a demo. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shop {
  merchantId: string;
  merchantName: string;
  storeId: string;
  storeName: string;
  storeAddress: string;
  regionCode: string;
  accountId: string;
  officeId: string | null;
}

type Outcome =
  | 'refund'
  | 'consumer'
  | 'no_objection'
  | 'escalated_no_response'
  | 'escalated_consumer'
  | 'withdrawn'
  | 'offer_expired';

/** Per merchant: how it tends to end (the second demo merchant escalates more). */
function outcomeOf(rand: number, shopIndex: number): Outcome {
  const escalate = shopIndex === 1 ? 0.3 : 0.12;
  const table: [Outcome, number][] = [
    ['escalated_no_response', escalate * 0.4],
    ['escalated_consumer', escalate * 0.6],
    ['withdrawn', 0.05],
    ['offer_expired', 0.04],
    ['consumer', 0.1],
    ['no_objection', 0.07],
  ];
  let acc = 0;
  for (const [o, p] of table) {
    acc += p;
    if (rand < acc) return o;
  }
  return 'refund';
}

const SUBJECTS: [string, number, string][] = [
  ['龙井茶 250g', 12800, 'quality'],
  ['蓝牙耳机', 39900, 'not_as_described'],
  ['月卡会员', 29900, 'service'],
  ['电热水壶', 15900, 'quality'],
  ['外卖套餐', 4650, 'overcharge'],
  ['运动鞋', 45900, 'quality'],
];

/** Shanghai weekday (0 = Sunday) of a UTC instant. */
const shanghaiWeekday = (d: Date) => new Date(d.getTime() + 8 * HOUR).getUTCDay();

/** 00:00 Shanghai of the day `daysBack` before `now`. */
function shanghaiMidnight(now: Date, daysBack: number): Date {
  const local = new Date(now.getTime() + 8 * HOUR - daysBack * DAY);
  return new Date(
    Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) - 8 * HOUR,
  );
}

async function shopsOf(db: PoolClient, merchantIds: string[] | null): Promise<Shop[]> {
  const { rows } = await db.query<Shop>(
    `SELECT m.id AS "merchantId", m.name AS "merchantName", s.id AS "storeId", s.name AS "storeName",
            s.address AS "storeAddress", s.region_code AS "regionCode", pa.account_id AS "accountId",
            (SELECT o.office_id FROM office_regions o WHERE s.region_code LIKE o.prefix || '%'
              ORDER BY length(o.prefix) DESC LIMIT 1) AS "officeId"
       FROM merchants m JOIN stores s ON s.merchant_id = m.id
       JOIN payment_accounts pa ON pa.store_id = s.id AND pa.provider = 'sunmi-pos'
      WHERE $1::uuid[] IS NULL OR m.id = ANY($1::uuid[])
      ORDER BY m.created_at, m.id`,
    [merchantIds],
  );
  return rows;
}

/** Columns of one table, filled row by row, inserted with one `INSERT … SELECT unnest(…)`. */
class Rows {
  readonly cols: unknown[][];
  constructor(
    readonly table: string,
    readonly names: string[],
    readonly types: string[],
  ) {
    this.cols = names.map(() => []);
  }
  push(values: unknown[]): void {
    values.forEach((v, i) => this.cols[i].push(v));
  }
  async insert(db: PoolClient): Promise<void> {
    if (!this.cols[0].length) return;
    const args = this.types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
    await db.query(
      `INSERT INTO ${this.table} (${this.names.join(', ')}) SELECT * FROM unnest(${args})`,
      this.cols,
    );
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Seeds the history for every merchant with a `sunmi-pos` account (the demo's), unless it was
 * seeded before. One transaction.
 */
export async function seedDemoHistory(
  pool: Pick<Pool, 'connect'>,
  opts: HistoryOptions = {},
): Promise<HistoryResult> {
  const days = opts.days ?? 90;
  const now = opts.now ?? new Date();
  const perDay = opts.perDay ?? 1.1;
  const random = prng(opts.seed ?? 20261202);
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    // One seeder at a time; the second finds the first's tickets.
    await db.query(`SELECT pg_advisory_xact_lock(hashtext('demo-history'))`);
    const [{ n }] = (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM complaints
          WHERE idempotency_key = $1 AND ($2::uuid[] IS NULL OR merchant_id = ANY($2::uuid[]))`,
        [HISTORY_KEY, opts.merchantIds ?? null],
      )
    ).rows;
    const shops = await shopsOf(db, opts.merchantIds ?? null);
    if (n > 0 || !shops.length) {
      await db.query('COMMIT');
      return { tickets: 0, events: 0, skipped: true };
    }

    const receipts = new Rows(
      'receipts',
      [
        'id',
        'provider',
        'trade_no',
        'payer_id',
        'account_id',
        'merchant_id',
        'store_id',
        'region_code',
        'amount_minor',
        'currency',
        'paid_at',
        'subject',
        'fingerprint',
        'raw_notification',
        'raw_content_type',
        'received_at',
      ],
      [
        'uuid',
        'text',
        'text',
        'text',
        'text',
        'uuid',
        'uuid',
        'text',
        'bigint',
        'text',
        'timestamptz',
        'text',
        'text',
        'text',
        'text',
        'timestamptz',
      ],
    );
    // Whole ticket rows by column name, inserted by the change writer's statement.
    const complaints: TicketColumns[] = [];
    const offers = new Rows(
      'complaint_offers',
      [
        'id',
        'complaint_id',
        'type',
        'amount_minor',
        'note',
        'status',
        'created_by',
        'created_at',
        'expires_at',
        'decided_at',
      ],
      [
        'uuid',
        'uuid',
        'text',
        'bigint',
        'text',
        'text',
        'text',
        'timestamptz',
        'timestamptz',
        'timestamptz',
      ],
    );
    const refunds = new Rows(
      'refunds',
      [
        'id',
        'provider',
        'refund_no',
        'trade_no',
        'receipt_id',
        'amount_minor',
        'currency',
        'refunded_at',
        'fingerprint',
        'raw',
        'raw_content_type',
        'received_at',
      ],
      [
        'uuid',
        'text',
        'text',
        'text',
        'uuid',
        'bigint',
        'text',
        'timestamptz',
        'text',
        'text',
        'text',
        'timestamptz',
      ],
    );
    const events = new Rows(
      'complaint_events',
      ['complaint_id', 'seq', 'type', 'actor_role', 'actor_id', 'at', 'data', 'prev_hash', 'hash'],
      ['uuid', 'int', 'text', 'text', 'text', 'timestamptz', 'jsonb', 'text', 'text'],
    );
    const outbox = new Rows(
      'outbox',
      ['topic', 'complaint_id', 'event_seq', 'event_type', 'payload', 'created_at'],
      ['text', 'uuid', 'int', 'text', 'jsonb', 'timestamptz'],
    );

    // How many tickets: per merchant and day, more at weekends.
    const plan: { shop: number; at: Date }[] = [];
    for (let back = days; back >= 1; back--) {
      const midnight = shanghaiMidnight(now, back);
      const weekend = [0, 6].includes(shanghaiWeekday(new Date(midnight.getTime() + 12 * HOUR)));
      shops.forEach((_s, shop) => {
        const mean = perDay * (weekend ? 1.7 : 1) * (shop === 0 ? 1.3 : 1);
        const count = Math.floor(mean + random() * 1.2 - 0.3);
        for (let k = 0; k < count; k++) {
          plan.push({ shop, at: new Date(midnight.getTime() + (9 + random() * 12) * HOUR) });
        }
      });
    }
    const numbers = (
      await db.query<{ n: string }>(
        `SELECT nextval('complaint_number_seq') AS n FROM generate_series(1, $1)`,
        [plan.length],
      )
    ).rows.map((r) => Number(r.n));

    let eventCount = 0;
    plan.forEach(({ shop: shopIndex, at: created }, i) => {
      const shop = shops[shopIndex];
      const [subject, amount, category] = SUBJECTS[Math.floor(random() * SUBJECTS.length)];
      const id = randomUUID();
      const receiptId = randomUUID();
      // Keys of this seed's own (a second seed for other merchants in the same database must not
      // meet them): the merchant's id prefix in the trade number and in the payer, whose
      // idempotency key is the shared HISTORY_KEY.
      const m8 = shop.merchantId.slice(0, 8);
      const tag = `H${m8}${created.getTime().toString(36)}${i}`;
      const payer = `sunmi-pos:hist-${m8}-${(i * 7919) % 997}`;
      const tradeNo = `HIST-${tag}`;
      const paidAt = new Date(created.getTime() - (1 + random() * 72) * HOUR);
      receipts.push([
        receiptId,
        'sunmi-pos',
        tradeNo,
        payer,
        shop.accountId,
        shop.merchantId,
        shop.storeId,
        shop.regionCode,
        amount,
        'CNY',
        paidAt,
        subject,
        sha256(`history\u0000${tradeNo}`),
        '{"history":true}',
        'application/json',
        paidAt,
      ]);

      const outcome = outcomeOf(random(), shopIndex);
      const staff = { role: 'merchant', id: `staff@${shop.merchantId}` };
      const consumer = { role: 'consumer', id: payer };
      const system = { role: 'system', id: 'deadline-worker' };
      const officer = { role: 'regulator', id: shop.officeId ? `officer@${shop.officeId}` : null };
      const respondBy = new Date(created.getTime() + 2 * DAY);
      const resolveBy = new Date(created.getTime() + 7 * DAY);
      const trail: TrailEvent[] = [];
      let status = 'awaiting_merchant';
      const add = (
        type: string,
        actor: { role: string; id: string | null },
        t: Date,
        data: object,
        to?: string,
      ) => {
        const from = status;
        if (to) status = to;
        const last = trail[trail.length - 1];
        const event = nextEvent(
          { event_count: last ? last.seq : 0, head_hash: last ? last.hash : null },
          type,
          actor as EventActor,
          t,
          to && to !== from ? { ...data, from, to } : data,
        );
        trail.push(event);
        events.push([
          id,
          event.seq,
          type,
          actor.role,
          actor.id,
          t,
          JSON.stringify(event.data),
          event.prevHash,
          event.hash,
        ]);
        outbox.push([
          'stats',
          id,
          event.seq,
          type,
          JSON.stringify({ status, actor, at: event.at, data: event.data }),
          t,
        ]);
      };
      const demand =
        outcome === 'consumer' || outcome === 'no_objection'
          ? { type: category === 'service' ? 'apology' : 'exchange', amountMinor: null }
          : { type: 'refund', amountMinor: amount };
      add('created', consumer, created, {
        complaintId: id,
        receiptId,
        merchantId: shop.merchantId,
        category,
        demand,
        description: `${subject}：历史投诉（演示数据）`,
        contactPhoneGiven: false,
        merchantRespondBy: respondBy.toISOString(),
        resolveBy: resolveBy.toISOString(),
      });

      const c: TicketColumns = {};
      let t = created;
      const later = (minH: number, maxH: number) =>
        (t = new Date(t.getTime() + (minH + random() * (maxH - minH)) * HOUR));

      if (outcome === 'escalated_no_response') {
        later(49, 60); // past merchantRespondBy, by the worker
        escalate('merchant_no_response', system);
      } else {
        later(0.3, 30);
        c.first_response_at = t;
        const offerId = randomUUID();
        const money = demand.type === 'refund';
        const offerAmount = money ? Math.round(amount * (random() < 0.6 ? 1 : 0.5)) : null;
        const offerType = money
          ? offerAmount === amount
            ? 'refund'
            : 'partial_refund'
          : demand.type;
        const expiresAt = new Date(t.getTime() + 7 * DAY);
        add(
          'offer_made',
          staff,
          t,
          {
            offerId,
            type: offerType,
            amountMinor: offerAmount,
            note: null,
            supersedes: null,
            expiresAt: expiresAt.toISOString(),
          },
          'in_negotiation',
        );
        const offeredAt = t;
        let offerStatus: string;
        let decidedAt: Date;
        if (outcome === 'withdrawn') {
          later(2, 48);
          add('withdrawn', consumer, t, { reason: null }, 'withdrawn');
          Object.assign(c, { closed_at: t, withdraw_reason: 'consumer' });
          offerStatus = 'withdrawn';
          decidedAt = t;
        } else if (outcome === 'offer_expired') {
          t = expiresAt;
          add('offer_expired', system, t, { offerId, reason: 'consumer_no_reply' }, 'withdrawn');
          Object.assign(c, { closed_at: t, withdraw_reason: 'consumer_no_reply' });
          offerStatus = 'expired';
          decidedAt = t;
        } else if (outcome === 'escalated_consumer') {
          later(3, 60);
          offerStatus = 'superseded';
          decidedAt = t;
          escalate('consumer_request', consumer);
        } else {
          later(0.5, 24);
          const settleBy = new Date(t.getTime() + 72 * HOUR);
          add(
            'offer_accepted',
            consumer,
            t,
            {
              offerId,
              type: offerType,
              amountMinor: offerAmount,
              settleBy: settleBy.toISOString(),
              refundedMinor: 0,
            },
            'settling',
          );
          offerStatus = 'accepted';
          decidedAt = t;
          Object.assign(c, {
            settlement_offer_id: offerId,
            settlement_type: offerType,
            settlement_amount_minor: offerAmount,
            settle_by: settleBy,
            settlement_refunded_minor: 0,
          });
          let refunded = 0;
          if (outcome === 'refund') {
            later(0.2, 40);
            const refundNo = `HRF-${tag}`;
            refunded = offerAmount ?? 0;
            const refundId = randomUUID();
            refunds.push([
              refundId,
              'sunmi-pos',
              refundNo,
              tradeNo,
              receiptId,
              refunded,
              'CNY',
              t,
              sha256(`history\u0000${refundNo}`),
              '{"history":true}',
              'application/json',
              t,
            ]);
            add('refund_received', { role: 'system', id: 'refund:sunmi-pos' }, t, {
              refundId,
              refundNo,
              amountMinor: refunded,
              currency: 'CNY',
              refundedAt: t.toISOString(),
              refundedMinor: refunded,
            });
          } else if (outcome === 'consumer') {
            later(4, 60);
          } else {
            t = settleBy;
          }
          const via = outcome === 'no_objection' ? 'no_objection' : outcome;
          const who =
            via === 'refund'
              ? { role: 'system', id: 'refund:sunmi-pos' }
              : via === 'consumer'
                ? consumer
                : system;
          add('settled', who, t, { offerId, settledVia: via, refundedMinor: refunded }, 'resolved');
          Object.assign(c, {
            settlement_refunded_minor: refunded,
            settled_at: t,
            settled_via: via,
            closed_at: t,
          });
        }
        offers.push([
          offerId,
          id,
          offerType,
          offerAmount,
          null,
          offerStatus,
          staff.id,
          offeredAt,
          expiresAt,
          decidedAt,
        ]);
      }

      /** Escalated to the district's office, accepted, mediated there (mostly to an agreement). */
      function escalate(reason: string, by: { role: string; id: string | null }) {
        const acceptBy = new Date(t.getTime() + 9 * DAY);
        add(
          'escalated',
          by,
          t,
          {
            reason,
            consumerReason: reason === 'consumer_request' ? '商家方案不合理' : null,
            officeId: shop.officeId,
            acceptBy: acceptBy.toISOString(),
            ruleSet: 'cn-12315',
            acceptByBasis: 'estimated',
          },
          'escalated',
        );
        Object.assign(c, {
          office_id: shop.officeId,
          escalated_at: t,
          escalation_reason: reason,
          accept_by: acceptBy,
        });
        // Recent: still waiting for the office to accept (acceptBy not reached yet).
        if (!shop.officeId || acceptBy.getTime() > now.getTime()) return;
        later(24, 120);
        const mediationEndBy = new Date(t.getTime() + 45 * DAY);
        add(
          'accepted',
          officer,
          t,
          { officeId: shop.officeId, mediationEndBy: mediationEndBy.toISOString() },
          'mediating',
        );
        Object.assign(c, { accepted_at: t, mediation_end_by: mediationEndBy });
        later(48, 200);
        const agreed = random() < 0.7;
        const result = {
          outcome: agreed ? 'agreement' : 'failed',
          reason: agreed ? null : 'no_agreement',
          note: agreed ? '经调解，商家同意退款。' : null,
          settlement: null,
        };
        add(
          agreed ? 'mediated' : 'mediation_failed',
          officer,
          t,
          result,
          agreed ? 'mediated' : 'mediation_failed',
        );
        Object.assign(c, {
          mediation_outcome: JSON.stringify(result),
          closed_at: t,
          decided_by: officer.id,
          decided_at: t,
        });
      }

      const last = trail[trail.length - 1];
      const order = {
        tradeNo,
        amountMinor: amount,
        currency: 'CNY',
        paidAt: paidAt.toISOString(),
        subject,
        storeName: shop.storeName,
        storeAddress: shop.storeAddress,
        merchantName: shop.merchantName,
      };
      complaints.push({
        id,
        number: ticketNumber(created, numbers[i]),
        status,
        receipt_id: receiptId,
        consumer_id: payer,
        merchant_id: shop.merchantId,
        store_id: shop.storeId,
        region_code: shop.regionCode,
        order_snapshot: JSON.stringify(order),
        category,
        demand_type: demand.type,
        demand_amount_minor: demand.amountMinor,
        description: `${subject}：历史投诉（演示数据）`,
        idempotency_key: HISTORY_KEY,
        merchant_respond_by: respondBy,
        resolve_by: resolveBy,
        event_count: last.seq,
        head_hash: last.hash,
        created_at: created,
        updated_at: new Date(last.at),
        // The state its history left it in (first_response_at, escalated_at, … decided_at).
        ...c,
      });
      eventCount += trail.length;
    });

    await receipts.insert(db);
    // The writer's insert columns and every column a history set (the others null).
    const columns = [...new Set([...TICKET_INSERT_COLUMNS, ...complaints.flatMap(Object.keys)])];
    if (complaints.length)
      await db.query(insertTicketsSql('$1', columns), [ticketPatches(complaints, columns)]);
    for (const rows of [offers, refunds, events, outbox]) await rows.insert(db);
    await db.query('COMMIT');
    // Fresh planner statistics for the tables that just grew by hundreds of rows at once.
    await db.query(
      'ANALYZE receipts, complaints, complaint_offers, refunds, complaint_events, outbox',
    );
    return { tickets: plan.length, events: eventCount, skipped: false };
  } catch (e) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    db.release();
  }
}
