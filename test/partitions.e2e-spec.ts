/*
 * Monthly partitions of receipts, refunds and trail events (issue 16; docs/SCALE.md
 * "Partitions"): global keys across months, the DEFAULT partition, the maintenance job that
 * creates the months ahead, and the migration that moves existing rows (and back).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PartitionsService, PARTITIONED_TABLES, monthStart } from '@app/complaints';
import type { Clock } from '@app/shared';
import { baseDataSourceOptions } from '../libs/database/src/base-options';
import { MIGRATIONS } from '../migrations';
import { MonthlyPartitions1764800000000 } from '../migrations/1764800000000-MonthlyPartitions';
import { ReceiptReads, ReceiptsService } from '@app/receipts';
import { receiptMonthByKey, refundMonthByKey } from '../libs/receipts/src/partition-lookups';
import { createShop, ticketIn } from './factories/complaint.factory';
import {
  genericReceipt,
  postBatch,
  postGeneric,
  uniqueTradeNo,
} from './factories/receipts.factory';
import { genericRefund, postRefund } from './factories/refunds.factory';
import { startTestApp, TestApp } from './helpers/test-app';

jest.setTimeout(180_000);

const DAY = 24 * 3600_000;

/** `at` moved `months` calendar months (UTC), same day (the 10th: exists in every month). */
function monthsFrom(at: Date, months: number, day = 10): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, day, 12));
}

const partitionName = (table: string, at: Date) =>
  `${table}_p${monthStart(at).slice(0, 4)}${monthStart(at).slice(5, 7)}`;

const fixedClock = (at: Date): Clock => ({ now: () => at });

const RAW_RECEIPT = `
  INSERT INTO receipts (provider, trade_no, payer_id, account_id, amount_minor, currency, paid_at, subject,
                        fingerprint, raw_notification, raw_content_type)
  VALUES ($1, $2, 'p', 'a', 100, 'CNY', $3, 's', repeat('0', 64), '{}', 'application/json')
  RETURNING id, tableoid::regclass::text AS part`;

describe('monthly partitions (receipts, refunds, complaint_events)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const whereIs = async (sql: string, params: unknown[]): Promise<string[]> =>
    (await t.db.query(sql, params)).map((r: { part: string }) => r.part);

  describe('global keys across months', () => {
    it('the same provider + tradeNo paid in two months is one receipt (409 for the other)', async () => {
      const tradeNo = uniqueTradeNo('PART');
      const now = new Date();
      const first = genericReceipt({ tradeNo, paidAt: monthsFrom(now, -1).toISOString() });
      const second = { ...first, paidAt: monthsFrom(now, 1).toISOString() };
      expect((await postGeneric(t, first)).status).toBe(201);
      const res = await postGeneric(t, second);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('RECEIPT_CONFLICT');
      // Re-delivery of the first: acknowledged, still one row.
      expect((await postGeneric(t, first)).status).toBe(200);
      const parts = await whereIs(
        `SELECT tableoid::regclass::text AS part FROM receipts WHERE provider = 'sunmi-pos' AND trade_no = $1`,
        [tradeNo],
      );
      expect(parts).toHaveLength(1);
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM receipt_keys WHERE provider = 'sunmi-pos' AND trade_no = $1`,
        [tradeNo],
      );
      expect(n).toBe(1);
    });

    it('parallel deliveries of one key in different months: exactly one stored, the others 409', async () => {
      const tradeNo = uniqueTradeNo('PARTX');
      const now = new Date();
      const bodies = [-1, 0, 1, 2, 6].map((m) =>
        genericReceipt({ tradeNo, payerId: 'p-race', paidAt: monthsFrom(now, m).toISOString() }),
      );
      const statuses = (await Promise.all(bodies.map((b) => postGeneric(t, b)))).map(
        (r) => r.status,
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(4);
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM receipts WHERE provider = 'sunmi-pos' AND trade_no = $1`,
        [tradeNo],
      );
      expect(n).toBe(1);
    });

    it('a batch line whose key is stored in another month is a RECEIPT_CONFLICT; its new keys are stored', async () => {
      const now = new Date();
      const stored = genericReceipt({ paidAt: monthsFrom(now, -1).toISOString() });
      expect((await postGeneric(t, stored)).status).toBe(201);
      const fresh = genericReceipt({ paidAt: monthsFrom(now, 2).toISOString() });
      const body = [{ ...stored, paidAt: monthsFrom(now, 1).toISOString() }, fresh, stored]
        .map((r) => JSON.stringify(r))
        .join('\n');
      const res = await postBatch(t, body);
      expect(res.status).toBe(200);
      expect(res.body.created).toBe(1);
      expect(res.body.duplicates).toBe(1);
      expect(res.body.rejected).toEqual([{ line: 1, code: 'RECEIPT_CONFLICT' }]);
    });

    it('a plain INSERT of a stored key in another month fails as a unique index would (23505)', async () => {
      const tradeNo = uniqueTradeNo('RAW');
      const now = new Date();
      await t.db.query(RAW_RECEIPT, ['raw', tradeNo, monthsFrom(now, 0)]);
      await expect(
        t.db.query(RAW_RECEIPT, ['raw', tradeNo, monthsFrom(now, 2)]),
      ).rejects.toMatchObject({ code: '23505', constraint: 'receipt_keys_pkey' });
      // Key columns cannot change under the key table.
      await expect(
        t.db.query(
          `UPDATE receipts SET trade_no = 'other' WHERE provider = 'raw' AND trade_no = $1`,
          [tradeNo],
        ),
      ).rejects.toThrow(/cannot change/);
    });

    it('a refund number is unique across months; the second month is refused as a duplicate of another refund', async () => {
      const shop = await createShop(t, '330106');
      const receipt = genericReceipt({
        accountId: shop.accountId,
        amountMinor: 9000,
        paidAt: monthsFrom(new Date(), -3).toISOString(),
      });
      expect((await postGeneric(t, receipt)).status).toBe(201);
      const refundNo = `RF-${randomBytes(4).toString('hex')}`;
      const now = new Date();
      const a = genericRefund(receipt.tradeNo as string, {
        refundNo,
        amountMinor: 1000,
        refundedAt: monthsFrom(now, 0).toISOString(),
      });
      expect((await postRefund(t, a)).status).toBe(201);
      const b = { ...a, refundedAt: monthsFrom(now, -1).toISOString() };
      expect((await postRefund(t, b)).status).toBe(409);
      const [{ n }] = await t.db.query(
        `SELECT count(*)::int AS n FROM refunds WHERE provider = 'sunmi-pos' AND refund_no = $1`,
        [refundNo],
      );
      expect(n).toBe(1);
    });
  });

  describe('DEFAULT partition and the maintenance job', () => {
    it('a row five months ahead lands in DEFAULT; the job then creates that month (and three more), moving the row; a second run creates nothing', async () => {
      const now = new Date();
      const ahead = monthsFrom(now, 5);
      const tradeNo = uniqueTradeNo('AHEAD');
      // Nothing for that month yet (the migration and the job create three months ahead).
      const [before] = await t.db.query(`SELECT to_regclass($1) AS r`, [
        partitionName('receipts', ahead),
      ]);
      expect(before.r).toBeNull();
      const [row] = await t.db.query(RAW_RECEIPT, ['ahead', tradeNo, ahead]);
      expect(row.part).toBe('receipts_default');
      // A trail event that far ahead too (the injected clock of a test can be there).
      const shop = await createShop(t, '330106');
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      await t.db.query(
        `INSERT INTO complaint_events (complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash)
         VALUES ($1, 99, 'note', 'system', null, $2, '{}', repeat('0', 64), repeat('1', 64))`,
        [ticket.id, ahead],
      );

      const job = new PartitionsService(t.db, fixedClock(ahead));
      const [one, two] = await Promise.all([job.ensureAhead(), job.ensureAhead()]);
      const created = [...one, ...two].sort();
      const expected = PARTITIONED_TABLES.flatMap((table) =>
        [0, 1, 2, 3].map((i) => partitionName(table, monthsFrom(ahead, i))),
      ).sort();
      expect(created).toEqual(expected); // each once, though two jobs ran at the same time
      expect(await job.ensureAhead()).toEqual([]);

      expect(
        await whereIs(`SELECT tableoid::regclass::text AS part FROM receipts WHERE id = $1`, [
          row.id,
        ]),
      ).toEqual([partitionName('receipts', ahead)]);
      const [key] = await t.db.query(
        `SELECT receipt_id FROM receipt_keys WHERE provider = 'ahead' AND trade_no = $1`,
        [tradeNo],
      );
      expect(key.receipt_id).toBe(row.id);
      // The event moved too (append-only: moved by the detach, not by a DELETE through the trigger).
      expect(
        await whereIs(
          `SELECT tableoid::regclass::text AS part FROM complaint_events WHERE complaint_id = $1 AND seq = 99`,
          [ticket.id],
        ),
      ).toEqual([partitionName('complaint_events', ahead)]);
      // DEFAULT is attached again and still takes what has no month.
      const far = monthsFrom(now, 40);
      const [late] = await t.db.query(RAW_RECEIPT, ['ahead', uniqueTradeNo('FAR'), far]);
      expect(late.part).toBe('receipts_default');
    });

    it('a table held by a long transaction (a batch import): the job gives up after its lock timeout instead of queueing every insert, and the next run creates the month', async () => {
      const ahead = monthsFrom(new Date(), 14);
      const job = new PartitionsService(t.db, fixedClock(ahead));
      const batch = t.db.createQueryRunner();
      await batch.connect();
      await batch.startTransaction();
      try {
        await batch.query(`LOCK TABLE refunds IN ROW EXCLUSIVE MODE`);
        const created = await job.ensureAhead(0);
        expect(created.sort()).toEqual(
          [partitionName('complaint_events', ahead), partitionName('receipts', ahead)].sort(),
        );
      } finally {
        await batch.rollbackTransaction();
        await batch.release();
      }
      expect(await job.ensureAhead(0)).toEqual([partitionName('refunds', ahead)]);
    });

    it('partitions of the trail keep it append-only (UPDATE, DELETE, TRUNCATE on a partition refused)', async () => {
      const shop = await createShop(t, '330106');
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      const [{ part }] = await t.db.query(
        `SELECT tableoid::regclass::text AS part FROM complaint_events WHERE complaint_id = $1`,
        [ticket.id],
      );
      await expect(
        t.db.query(`UPDATE ${part} SET data = '{}' WHERE complaint_id = $1`, [ticket.id]),
      ).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(
        t.db.query(`DELETE FROM ${part} WHERE complaint_id = $1`, [ticket.id]),
      ).rejects.toThrow(/append-only: DELETE refused/);
      for (const p of [part, 'complaint_events_default']) {
        await expect(t.db.query(`TRUNCATE ${p}`)).rejects.toThrow(/append-only: TRUNCATE refused/);
      }
    });
  });
});

describe('lookups through the key tables, and retention (issue 16)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /**
   * The partitions of receipts / refunds a statement really scanned (EXPLAIN ANALYZE: a pruned
   * subplan shows as "never executed" or not at all), and how many its plan lists.
   */
  async function scanned(sql: string, params: unknown[]) {
    const plan: { 'QUERY PLAN': string }[] = await t.db.query(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${sql}`,
      params,
    );
    const lines = plan.map((r) => r['QUERY PLAN']);
    const scans = lines.filter((l) => / on (receipts|refunds)_(p\d{6}|default)\b/.test(l));
    const part = (l: string) => / on ((receipts|refunds)_(p\d{6}|default))\b/.exec(l)![1];
    return {
      executed: scans.filter((l) => !l.includes('never executed')).map(part),
      listed: scans.map(part),
      plan: lines.join('\n'),
    };
  }

  /** The SQL and parameters `run` sends through t.db.query (the services' DataSource). */
  async function statementsOf(run: () => Promise<unknown>) {
    const spy = jest.spyOn(t.db, 'query');
    try {
      await run();
      return spy.mock.calls.map(([sql, params]) => ({ sql, params: (params ?? []) as unknown[] }));
    } finally {
      spy.mockRestore();
    }
  }

  it('a receipt by id and by provider key, a refund by provider key: one partition scanned, not one per month', async () => {
    const now = new Date();
    const shop = await createShop(t, '330106');
    const receipt = genericReceipt({
      accountId: shop.accountId,
      amountMinor: 5000,
      paidAt: monthsFrom(now, 1).toISOString(),
    });
    const res = await postGeneric(t, receipt);
    expect(res.status).toBe(201);
    const id: string = res.body.id;
    const refund = genericRefund(receipt.tradeNo as string, {
      amountMinor: 1000,
      refundedAt: monthsFrom(now, 2).toISOString(),
    });
    expect((await postRefund(t, refund)).status).toBe(201);
    const months = (
      await t.db.query(
        `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'receipts'::regclass`,
      )
    )[0].n;
    expect(months).toBeGreaterThan(2);

    // GET /v1/receipts/:id's statement, as the service sends it.
    const receipts = t.app.get(ReceiptsService);
    const calls = await statementsOf(() => receipts.findById(id));
    const byId = calls.find((c) => /FROM receipts r/.test(c.sql))!;
    const one = await scanned(byId.sql, byId.params);
    // (Its refunded sum reads the receipt's refunds by trade number: no key, every month.)
    const receiptsOf = (parts: string[]) => parts.filter((p) => p.startsWith('receipts_'));
    expect(receiptsOf(one.executed)).toEqual([partitionName('receipts', monthsFrom(now, 1))]);
    // The others pruned at run time, not skipped by luck.
    expect(receiptsOf(one.listed).length).toBeGreaterThan(1);

    // The reads other libs use (a ticket's receipt by id): every statement they send.
    const sent: { sql: string; params: unknown[] }[] = [];
    const spying = {
      query: (sql: string, params: unknown[]) => {
        sent.push({ sql, params });
        return t.db.query(sql, params);
      },
    };
    expect(await ReceiptReads.amountPaid(spying, id)).toBe(5000);
    expect(await ReceiptReads.refundedSince(spying, id, new Date(0))).toBe(1000);
    for (const q of sent) {
      expect(receiptsOf((await scanned(q.sql, q.params)).executed)).toEqual([
        partitionName('receipts', monthsFrom(now, 1)),
      ]);
    }

    // By provider key (a duplicate notification, a refund's receipt), and a refund by its key.
    const byKey = await scanned(
      `SELECT r.id FROM receipts r WHERE r.provider = $1 AND r.trade_no = $2
          AND ${receiptMonthByKey('r', '$1', '$2')}`,
      ['sunmi-pos', receipt.tradeNo],
    );
    expect(byKey.executed.length).toBeLessThanOrEqual(1);
    const refundByKey = await scanned(
      `SELECT f.id FROM refunds f WHERE f.provider = $1 AND f.refund_no = $2
          AND ${refundMonthByKey('f', '$1', '$2')}`,
      ['sunmi-pos', refund.refundNo],
    );
    expect(refundByKey.executed).toEqual([partitionName('refunds', monthsFrom(now, 2))]);
    // Without the key table's month, every partition is probed.
    const plain = await scanned(`SELECT r.id FROM receipts r WHERE r.id = $1`, [id]);
    expect(plain.executed.length).toBe(months);
  });

  describe('retention (PARTITION_RETENTION_MONTHS)', () => {
    // Months no other suite uses: the clock is in 2002, retention 6 months → before 2001-07.
    const clockAt = new Date(Date.UTC(2002, 0, 10, 12));
    const month = (m: number) => new Date(Date.UTC(2001, m - 1, 10, 12));
    const make = async (table: string, at: Date) =>
      t.db.query(`SELECT hejie_ensure_month_partition($1::regclass, $2::date)`, [
        table,
        monthStart(at),
      ]);
    const exists = async (name: string) =>
      (await t.db.query(`SELECT to_regclass($1) AS r`, [name]))[0].r !== null;

    it('is off by default: nothing is past retention', async () => {
      await make('receipts', month(2));
      const job = new PartitionsService(t.db, fixedClock(clockAt));
      expect(await job.pastRetention()).toEqual([]);
      expect(await job.dropPastRetention()).toEqual({ dropped: [], kept: [] });
      expect(await exists(partitionName('receipts', month(2)))).toBe(true);
    });

    it('drops months past retention (refunds first, keys with them), keeps a month whose receipt a ticket references, and the recent ones', async () => {
      for (const m of [2, 3, 4, 7]) await make('receipts', month(m));
      await make('refunds', month(3));
      const shop = await createShop(t, '330106');
      const raw = async (m: number) =>
        (await t.db.query(RAW_RECEIPT, ['retain', uniqueTradeNo(`RET${m}`), month(m)]))[0] as {
          id: string;
          part: string;
        };
      const old = await raw(2); // nobody references it: dropped
      const withRefund = await raw(3); // only its refund (also old) references it: both dropped
      const ticketed = await raw(4); // a ticket references it: kept, the whole month
      const recent = await raw(7); // within retention
      expect(ticketed.part).toBe(partitionName('receipts', month(4)));
      await t.db.query(
        `INSERT INTO refunds (provider, refund_no, trade_no, receipt_id, amount_minor, currency, refunded_at,
                              fingerprint, raw, raw_content_type)
         SELECT 'retain', 'RF-' || trade_no, trade_no, id, 50, 'CNY', $2, repeat('0', 64), '{}', 'application/json'
           FROM receipts WHERE id = $1`,
        [withRefund.id, month(3)],
      );
      await t.db.query(
        `INSERT INTO complaints (number, status, receipt_id, consumer_id, merchant_id, store_id, region_code,
                                 order_snapshot, category, demand_type, description, merchant_respond_by, resolve_by,
                                 created_at, updated_at)
         VALUES ('RET-' || $1::text, 'withdrawn', $1::uuid, 'p', $2, $3, '330106', '{}'::jsonb, 'quality', 'repair',
                 'retention test', $4, $4, $4, $4)`,
        [ticketed.id, shop.merchant.id, shop.store.id, month(4)],
      );

      const job = new PartitionsService(t.db, fixedClock(clockAt));
      const past = (await job.pastRetention(6)).map((p) => p.partition);
      expect(past).toEqual(
        expect.arrayContaining([
          partitionName('receipts', month(2)),
          partitionName('refunds', month(3)),
          partitionName('receipts', month(3)),
          partitionName('receipts', month(4)),
        ]),
      );
      expect(past).not.toContain(partitionName('receipts', month(7)));
      // Refunds of a month before its receipts.
      expect(past.indexOf(partitionName('refunds', month(3)))).toBeLessThan(
        past.indexOf(partitionName('receipts', month(3))),
      );

      const r = await job.dropPastRetention(6);
      expect(r.dropped).toEqual(
        expect.arrayContaining([
          partitionName('receipts', month(2)),
          partitionName('refunds', month(3)),
          partitionName('receipts', month(3)),
        ]),
      );
      expect(r.kept).toEqual([
        { partition: partitionName('receipts', month(4)), reason: 'referenced' },
      ]);
      expect(await exists(partitionName('receipts', month(2)))).toBe(false);
      expect(await exists(partitionName('receipts', month(4)))).toBe(true);
      expect(await exists(partitionName('receipts', month(7)))).toBe(true);
      // The keys went with their rows; the kept month's and the recent one's stay.
      const keys = await t.db.query(
        `SELECT receipt_id FROM receipt_keys WHERE receipt_id = ANY($1::uuid[]) ORDER BY paid_at`,
        [[old.id, withRefund.id, ticketed.id, recent.id]],
      );
      expect(keys.map((k: { receipt_id: string }) => k.receipt_id)).toEqual([
        ticketed.id,
        recent.id,
      ]);
      expect(
        (
          await t.db.query(`SELECT count(*)::int AS n FROM refund_keys WHERE provider = 'retain'`)
        )[0].n,
      ).toBe(0);
      // The ticket still reads its receipt.
      expect(await ReceiptReads.amountPaid(t.db, ticketed.id)).toBe(100);
      // What /metrics shows (hejie_partitions_past_retention): the kept month.
      expect(await job.pastRetention(6)).toEqual([
        { table: 'receipts', partition: partitionName('receipts', month(4)) },
      ]);
      // And the next run tries the kept month again, still refused while the ticket exists.
      expect((await job.dropPastRetention(6)).kept).toEqual([
        { partition: partitionName('receipts', month(4)), reason: 'referenced' },
      ]);
    });
  });
});

describe('the migration moves existing rows (1764800000000-MonthlyPartitions)', () => {
  const admin = () => new Client({ connectionString: process.env.HEJIE_TEST_ADMIN_URL });
  const dbName = `${process.env.HEJIE_TEST_DB ?? 'hejie_test'}_parts_${randomBytes(3).toString('hex')}`;
  let url: string;

  beforeAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const u = new URL(process.env.HEJIE_TEST_ADMIN_URL!);
    u.pathname = `/${dbName}`;
    url = u.toString();
  });
  afterAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  });

  const source = (upTo: number) =>
    new DataSource({ ...baseDataSourceOptions(url), migrations: MIGRATIONS.slice(0, upTo) });

  it('rows inserted on the unpartitioned schema are all there after up (in their months), and after down', async () => {
    const mine = MIGRATIONS.indexOf(MonthlyPartitions1764800000000);
    expect(mine).toBeGreaterThan(0);
    const before = source(mine);
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    const q = (sql: string, p: unknown[] = []) => before.query(sql, p);
    const [m] = await q(
      `INSERT INTO merchants (name, credit_code) VALUES ('M', '91330106MA2XXXXX1X') RETURNING id`,
    );
    const [s] = await q(
      `INSERT INTO stores (merchant_id, name, address, region_code)
       VALUES ($1, 'S', 'A', '330106') RETURNING id`,
      [m.id],
    );
    const months = ['2025-03-15T00:00:00Z', '2026-06-15T00:00:00Z', new Date().toISOString()];
    for (let i = 0; i < 30; i++) {
      await q(
        `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                               amount_minor, currency, paid_at, subject, fingerprint, raw_notification, raw_content_type)
         VALUES ('old', $1, 'p' || $1, 'a', $2, $3, '330106', 1000, 'CNY', $4, 's', repeat('0', 64), '{}', 'application/json')`,
        [`T${i}`, m.id, s.id, months[i % 3]],
      );
    }
    await q(
      `INSERT INTO refunds (provider, refund_no, trade_no, receipt_id, amount_minor, currency, refunded_at,
                            fingerprint, raw, raw_content_type)
       SELECT 'old', 'R' || r.trade_no, r.trade_no, r.id, 100, 'CNY', r.paid_at + interval '1 day',
              repeat('0', 64), '{}', 'application/json'
         FROM receipts r WHERE r.trade_no IN ('T0', 'T1', 'T2', 'T3')`,
    );
    const tickets = await q(
      `INSERT INTO complaints (number, status, receipt_id, consumer_id, merchant_id, store_id, region_code,
                               order_snapshot, category, demand_type, description, merchant_respond_by, resolve_by,
                               created_at)
       SELECT 'OLD-' || r.trade_no, 'awaiting_merchant', r.id, r.payer_id, $1, $2, '330106', '{}'::jsonb,
              'quality', 'repair', 'old complaint', r.paid_at + interval '4 days', r.paid_at + interval '7 days',
              r.paid_at + interval '1 hour'
         FROM receipts r WHERE r.trade_no IN ('T0', 'T1', 'T2', 'T4', 'T5')
       RETURNING id, created_at`,
      [m.id, s.id],
    );
    for (const tk of tickets) {
      for (let seq = 1; seq <= 3; seq++) {
        await q(
          `INSERT INTO complaint_events (complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash)
           VALUES ($1, $2, 'note', 'system', null, $3, '{}', repeat('0', 64), repeat('0', 64))`,
          [tk.id, seq, new Date(new Date(tk.created_at).getTime() + seq * 20 * DAY)],
        );
      }
    }
    const counts = async (run: (sql: string) => Promise<{ n: number }[]>) => ({
      receipts: (await run(`SELECT count(*)::int AS n FROM receipts`))[0].n,
      refunds: (await run(`SELECT count(*)::int AS n FROM refunds`))[0].n,
      events: (await run(`SELECT count(*)::int AS n FROM complaint_events`))[0].n,
      tickets: (await run(`SELECT count(*)::int AS n FROM complaints`))[0].n,
    });
    const was = await counts((sql) => q(sql));
    expect(was).toEqual({ receipts: 30, refunds: 4, events: 15, tickets: 5 });
    await before.destroy();

    const after = source(mine + 1);
    await after.initialize();
    const started = Date.now();
    await after.runMigrations({ transaction: 'each' });
    const tookMs = Date.now() - started;
    const a = (sql: string, p: unknown[] = []) => after.query(sql, p);
    expect(await counts((sql) => a(sql))).toEqual(was);
    const [{ keys }] = await a(`SELECT count(*)::int AS keys FROM receipt_keys`);
    expect(keys).toBe(30);
    // Each month present got its partition: nothing sits in DEFAULT.
    const byPart: { part: string; n: number }[] = await a(
      `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM receipts GROUP BY 1 ORDER BY 1`,
    );
    expect(byPart.map((r) => r.part)).toEqual(
      ['receipts_p202503', 'receipts_p202606', partitionName('receipts', new Date())].sort(),
    );
    expect(byPart.every((r) => r.n === 10)).toBe(true);
    const [{ n: inDefault }] = await a(
      `SELECT (SELECT count(*) FROM receipts_default) + (SELECT count(*) FROM refunds_default)
              + (SELECT count(*) FROM complaint_events_default) AS n`,
    );
    expect(Number(inDefault)).toBe(0);
    // The next months exist too.
    for (const i of [1, 2, 3]) {
      const [r] = await a(`SELECT to_regclass($1) AS r`, [
        partitionName('complaint_events', monthsFrom(new Date(), i)),
      ]);
      expect(r.r).not.toBeNull();
    }
    // Old tickets still reference their receipts (through the key table); keys still unique.
    await expect(
      a(
        `INSERT INTO receipts (provider, trade_no, payer_id, account_id, amount_minor, currency, paid_at, subject,
                               fingerprint, raw_notification, raw_content_type)
         VALUES ('old', 'T7', 'p', 'a', 1, 'CNY', '2027-02-02', 's', repeat('0', 64), '{}', 'j')`,
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      a(
        `INSERT INTO complaints (number, status, receipt_id, consumer_id, merchant_id, store_id, region_code,
                                 order_snapshot, category, demand_type, description, merchant_respond_by, resolve_by)
         VALUES ('X', 'awaiting_merchant', gen_random_uuid(), 'c', $1, $2, '330106', '{}', 'quality', 'repair', 'x',
                 now(), now())`,
        [m.id, s.id],
      ),
    ).rejects.toMatchObject({ code: '23503' });

    // Down: the same rows in plain tables with their unique indexes.
    await after.undoLastMigration({ transaction: 'each' });
    expect(await counts((sql) => a(sql))).toEqual(was);
    const [{ kind }] = await a(`SELECT relkind AS kind FROM pg_class WHERE relname = 'receipts'`);
    expect(kind).toBe('r');
    await expect(
      a(
        `INSERT INTO receipts (provider, trade_no, payer_id, account_id, amount_minor, currency, paid_at, subject,
                               fingerprint, raw_notification, raw_content_type)
         VALUES ('old', 'T7', 'p', 'a', 1, 'CNY', '2027-02-02', 's', repeat('0', 64), '{}', 'j')`,
      ),
    ).rejects.toMatchObject({ code: '23505', constraint: 'uq_receipts_provider_trade_no' });
    // And up again on that data.
    await after.runMigrations({ transaction: 'each' });
    expect(await counts((sql) => a(sql))).toEqual(was);
    await after.destroy();
    // Small data: the migration is quick (the test harness runs it on an empty template).
    expect(tookMs).toBeLessThan(30_000);
  });
});
