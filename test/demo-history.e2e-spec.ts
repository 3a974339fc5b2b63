/*
 * The demo's 90-day history (scripts/demo-history.ts) on a fresh database: hundreds of tickets
 * spread over the days, with rates a regulator would believe, counted by the same outbox drain
 * as live tickets, every trail a valid hash chain; seeding again adds nothing.
 */
import type { Pool } from 'pg';
import { StatsService } from '../libs/complaints/src/stats/stats.service';
import { HISTORY_KEY, seedDemoHistory } from '../scripts/demo-history';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, Shop } from './factories/complaint.factory';

const DAY = 86_400_000;
const shanghaiDay = (d: Date) => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);

describe('demo history', () => {
  let t: TestApp;
  let shops: Shop[];
  let result: Awaited<ReturnType<typeof seedDemoHistory>>;
  const now = new Date();

  beforeAll(async () => {
    t = await startTestApp();
    await createOffice(t, ['3301'], '杭州市市场监督管理局');
    shops = [];
    for (const region of ['330106', '330102', '330108']) shops.push(await createShop(t, region));
    const pool = (t.db.driver as unknown as { master: Pool }).master;
    const started = Date.now();
    result = await seedDemoHistory(pool, { now, merchantIds: shops.map((s) => s.merchant.id) });
    console.info(
      `demo history: ${result.tickets} tickets, ${result.events} events in ${Date.now() - started} ms`,
    );
    const stats = t.app.get(StatsService, { strict: false });
    while ((await stats.drainBatch(5000)) > 0);
  }, 180_000);
  afterAll(() => t.close());

  const admin = () => bearer(t.token({ role: 'admin' }));
  const report = async (merchantId?: string) =>
    (
      await t.http
        .get('/v1/stats/self-resolution')
        .query({
          from: shanghaiDay(new Date(now.getTime() - 90 * DAY)),
          to: shanghaiDay(now),
          ...(merchantId ? { merchantId } : {}),
        })
        .set(admin())
        .expect(200)
    ).body as {
      selfResolved: number;
      verifiedSelfResolved: number;
      escalated: number;
      withdrawn: number;
      rate: number;
      verifiedRate: number;
      byDay: { day: string; selfResolved: number; escalated: number }[];
    };

  it('hundreds of tickets over at least 60 distinct days, more at weekends', async () => {
    expect(result.skipped).toBe(false);
    expect(result.tickets).toBeGreaterThanOrEqual(300);
    // Per merchant (other suites may share this database): the days any of them closed tickets.
    const active = new Set<string>();
    for (const shop of shops) {
      for (const d of (await report(shop.merchant.id)).byDay) {
        if (d.selfResolved + d.escalated > 0) active.add(d.day);
      }
    }
    expect(active.size).toBeGreaterThanOrEqual(60);
    const [{ weekend, weekday }] = await t.db.query(
      `SELECT avg(n) FILTER (WHERE dow IN (0, 6)) AS weekend, avg(n) FILTER (WHERE dow NOT IN (0, 6)) AS weekday
         FROM (SELECT extract(dow FROM created_at AT TIME ZONE 'Asia/Shanghai') AS dow,
                      (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n
                 FROM complaints WHERE idempotency_key = $1 AND merchant_id = ANY($2) GROUP BY 1, 2) d`,
      [HISTORY_KEY, shops.map((s) => s.merchant.id)],
    );
    expect(Number(weekend)).toBeGreaterThan(Number(weekday));
  });

  it('mostly self-resolved, verified by refunds, some escalated and withdrawn: rates between 50 and 95 %', async () => {
    // The three merchants together (other suites may share this database).
    const all = await Promise.all(shops.map((shop) => report(shop.merchant.id)));
    const sum = (k: 'selfResolved' | 'verifiedSelfResolved' | 'escalated' | 'withdrawn') =>
      all.reduce((n, r) => n + r[k], 0);
    const rate = sum('selfResolved') / (sum('selfResolved') + sum('escalated'));
    const verifiedRate = sum('verifiedSelfResolved') / (sum('selfResolved') + sum('escalated'));
    expect(rate).toBeGreaterThan(0.5);
    expect(rate).toBeLessThan(0.95);
    expect(verifiedRate).toBeGreaterThan(0.5);
    expect(verifiedRate).toBeLessThan(rate);
    expect(sum('escalated')).toBeGreaterThan(0);
    expect(sum('withdrawn')).toBeGreaterThan(0);
    for (const shop of shops) {
      const m = await report(shop.merchant.id);
      expect(m.rate).toBeGreaterThan(0.5);
      expect(m.rate).toBeLessThan(0.95);
    }
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM complaints c JOIN refunds f ON f.receipt_id = c.receipt_id
        WHERE c.idempotency_key = $1 AND c.settled_via = 'refund' AND c.merchant_id = ANY($2)`,
      [HISTORY_KEY, shops.map((s) => s.merchant.id)],
    );
    expect(n).toBeGreaterThan(0);
  });

  it('every trail verifies, and its head is the ticket’s', async () => {
    const tickets: { id: string; consumer_id: string }[] = await t.db.query(
      `SELECT DISTINCT ON (status) id, consumer_id FROM complaints
        WHERE idempotency_key = $1 AND merchant_id = ANY($2) ORDER BY status, id`,
      [HISTORY_KEY, shops.map((s) => s.merchant.id)],
    );
    expect(tickets.length).toBeGreaterThanOrEqual(5); // resolved, withdrawn, escalated, mediated, …
    for (const tk of tickets) {
      const res = await t.http
        .get(`/v1/complaints/${tk.id}/events/verify`)
        .set(admin())
        .expect(200);
      expect(res.body.valid).toBe(true);
    }
  });

  it('seeding again adds nothing', async () => {
    const pool = (t.db.driver as unknown as { master: Pool }).master;
    const again = await seedDemoHistory(pool, {
      now,
      merchantIds: shops.map((s) => s.merchant.id),
    });
    expect(again).toMatchObject({ skipped: true, tickets: 0 });
    const [{ n }] = await t.db.query(
      // This suite's merchants only: another suite in the same database may seed its own.
      `SELECT count(*)::int AS n FROM complaints WHERE idempotency_key = $1 AND merchant_id = ANY($2)`,
      [HISTORY_KEY, shops.map((s) => s.merchant.id)],
    );
    expect(n).toBe(result.tickets);
  });
});
