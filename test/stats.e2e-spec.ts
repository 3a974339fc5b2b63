import { randomBytes } from 'node:crypto';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createMerchantWithStore } from './factories/directory.factory';
import { complaintBody, createOffice, createReceipt } from './factories/complaint.factory';
import { spawnWorker, waitFor } from './helpers/worker-process';

type Headers = { Authorization: string };

/** A known history for one merchant in a region no other test uses (450103). */
describe('self-resolution statistics from rollups', () => {
  let fast: TestApp; // MERCHANT_RESPONSE_SLA 1s: for the late and unanswered tickets
  let t: TestApp; // the default clocks
  let merchantId: string;
  let staff: Headers;
  let officeId: string;
  const payer = `stats${randomBytes(4).toString('hex')}`;
  const consumer = (tt: TestApp) =>
    bearer(tt.token({ role: 'consumer', sub: `sunmi-pos:${payer}` }));
  let account: string;

  async function open(app: TestApp): Promise<string> {
    const r = await createReceipt(app, { accountId: account, payer });
    const res = await app.http
      .post('/v1/complaints')
      .set(consumer(app))
      .send(complaintBody(r.id, { demand: { type: 'repair' } }));
    expect(res.status).toBe(201);
    return res.body.id;
  }
  const say = (app: TestApp, id: string, who: Headers, body = 'We are looking into it.') =>
    app.http.post(`/v1/complaints/${id}/messages`).set(who).send({ body }).expect(201);
  async function settle(app: TestApp, id: string) {
    const offer = await app.http
      .post(`/v1/complaints/${id}/offers`)
      .set(staff)
      .send({ type: 'refund', amountMinor: 500 })
      .expect(201);
    await app.http
      .post(`/v1/complaints/${id}/offers/${offer.body.id}/accept`)
      .set(consumer(app))
      .expect(200);
  }

  beforeAll(async () => {
    fast = await startTestApp({ MERCHANT_RESPONSE_SLA: '1s' });
    const shop = await createMerchantWithStore(fast, { regionCode: '450103' });
    merchantId = shop.merchant.id;
    account = shop.account('sunmi-pos');
    staff = bearer(fast.token({ role: 'merchant', sub: 'staff', merchantId }));
    officeId = (await createOffice(fast, ['4501'], 'Nanning office')).id;

    // Late and unanswered: deadlines of 1 s pass before the merchant answers (no worker runs yet).
    const late = await open(fast);
    const unanswered = await open(fast);
    await new Promise((r) => setTimeout(r, 1300));
    await say(fast, late, staff); // first response, late
    await fast.close();

    t = await startTestApp({
      MERCHANT_RESPONSE_SLA: '96h',
      SERIAL_COMPLAINANT_MIN_TICKETS: '3',
      SERIAL_COMPLAINANT_MIN_MERCHANTS: '3',
    });
    const resolved = await open(t);
    await settle(t, resolved); // first response (the offer) on time, self-resolved
    const escalated = await open(t);
    await say(t, escalated, staff); // on time
    await t.http
      .post(`/v1/complaints/${escalated}/escalate`)
      .set(consumer(t))
      .send({ reason: 'Not repaired.' })
      .expect(200);
    const withdrawn = await open(t);
    await t.http.post(`/v1/complaints/${withdrawn}/withdraw`).set(consumer(t)).send({}).expect(200);
    await open(t); // stays open
    await settle(t, late); // the late one is settled too

    // Two workers: the unanswered ticket is escalated by the sweep; both drain the outbox.
    const workers = await Promise.all([
      spawnWorker({ SWEEP_INTERVAL: '1s' }),
      spawnWorker({ SWEEP_INTERVAL: '1s' }),
    ]);
    try {
      await waitFor(
        () =>
          t.db
            .query(`SELECT status FROM complaints WHERE id = $1`, [unanswered])
            .then((r) => r[0].status),
        (s) => s === 'escalated',
        10_000,
      );
      await waitFor(
        () =>
          t.db
            .query(
              `SELECT count(*)::int AS n FROM outbox o JOIN complaints c ON c.id = o.complaint_id
                     WHERE c.merchant_id = $1 AND o.topic = 'stats' AND o.state = 'pending'`,
              [merchantId],
            )
            .then((r) => r[0].n),
        (n) => n === 0,
        10_000,
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 90_000);
  afterAll(() => t.close());

  /** The same figures counted directly from tickets and events. */
  async function direct() {
    const [r] = await t.db.query(
      `SELECT
         count(*) FILTER (WHERE e.type = 'offer_accepted')::int AS self_resolved,
         count(*) FILTER (WHERE e.type = 'escalated')::int AS escalated,
         count(*) FILTER (WHERE e.type = 'withdrawn')::int AS withdrawn,
         count(*) FILTER (WHERE e.actor_role = 'merchant' AND e.data->>'from' = 'awaiting_merchant')::int AS first,
         count(*) FILTER (WHERE e.actor_role = 'merchant' AND e.data->>'from' = 'awaiting_merchant'
                            AND e.at <= c.merchant_respond_by)::int AS first_on_time,
         count(*) FILTER (WHERE e.type = 'escalated' AND e.data->>'reason' = 'merchant_no_response')::int AS no_response
         FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id WHERE c.merchant_id = $1`,
      [merchantId],
    );
    const [open] = await t.db.query(
      `SELECT count(*)::int AS n FROM complaints WHERE merchant_id = $1 AND status IN ('awaiting_merchant', 'in_negotiation')`,
      [merchantId],
    );
    return { ...r, open: open.n };
  }

  it('every figure matches a direct count over the tickets', async () => {
    const admin = bearer(t.token({ role: 'admin' }));
    const res = await t.http
      .get(`/v1/stats/self-resolution?merchantId=${merchantId}`)
      .set(admin)
      .expect(200);
    const d = await direct();
    expect(res.body).toMatchObject({
      selfResolved: d.self_resolved,
      escalated: d.escalated,
      withdrawn: d.withdrawn,
      open: d.open,
      rate: d.self_resolved / (d.self_resolved + d.escalated),
      merchantOnTimeResponseRate: d.first_on_time / (d.first + d.no_response),
    });
    // And the known history: 2 settled, 2 escalated (consumer, no response), 1 withdrawn, 1 open;
    // 3 first responses of which 2 on time, 1 never answered.
    expect(res.body).toMatchObject({
      selfResolved: 2,
      escalated: 2,
      withdrawn: 1,
      open: 1,
      rate: 0.5,
    });
    expect(res.body.merchantOnTimeResponseRate).toBeCloseTo(2 / 4);
    expect(res.body.medianHoursToResolve).toBeGreaterThanOrEqual(0);
    expect(res.body.medianHoursToResolve).toBeLessThanOrEqual(1);
    const today = res.body.byDay.find((x: { day: string }) => x.day === res.body.to);
    expect(today).toMatchObject({ selfResolved: 2, escalated: 2, rate: 0.5 });
  });

  it('rollups hold each event once although two workers drained them', async () => {
    const [sums] = await t.db.query(
      `SELECT sum(opened)::int AS opened, sum(self_resolved)::int AS self_resolved,
              sum(escalated_no_response)::int AS no_response, sum(escalated_consumer)::int AS consumer
         FROM stats_daily WHERE merchant_id = $1`,
      [merchantId],
    );
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM complaints WHERE merchant_id = $1`,
      [merchantId],
    );
    expect(sums).toEqual({ opened: n, self_resolved: 2, no_response: 1, consumer: 1 });
  });

  it('is scoped: merchant itself, regulator its jurisdiction, consumer refused', async () => {
    const own = bearer(t.token({ role: 'merchant', sub: 's', merchantId }));
    await t.http.get('/v1/stats/self-resolution').set(own).expect(200);
    const other = bearer(
      t.token({ role: 'merchant', sub: 's', merchantId: '00000000-0000-4000-8000-000000000001' }),
    );
    await t.http.get(`/v1/stats/self-resolution?merchantId=${merchantId}`).set(other).expect(403);
    const regulator = bearer(t.token({ role: 'regulator', sub: 'r', officeId }));
    const mine = await t.http
      .get(`/v1/stats/self-resolution?regionCode=450103`)
      .set(regulator)
      .expect(200);
    expect(mine.body.selfResolved).toBeGreaterThanOrEqual(2);
    await t.http.get(`/v1/stats/self-resolution?regionCode=330106`).set(regulator).expect(403);
    await t.http.get('/v1/stats/self-resolution').set(consumer(t)).expect(403);
    await t.http.get('/v1/stats/self-resolution?from=2026-13-01').set(own).expect(400);
    await t.http
      .get('/v1/stats/self-resolution?from=2026-11-30&to=2026-11-01')
      .set(own)
      .expect(400);
  });

  it('credit is public and explained by its components', async () => {
    const res = await t.http.get(`/v1/merchants/${merchantId}/credit`).expect(200);
    const points = Object.fromEntries(
      res.body.components.map((c: { name: string; points: number }) => [c.name, c.points]),
    );
    // on time 2/4 → 15; self-resolution 2/4 → 20; 2 escalations per 6 tickets = 33.3/100 → 6.7; no mediation → 10.
    expect(points).toEqual({
      on_time_response: 15,
      self_resolution: 20,
      escalations: 6.7,
      mediation_outcomes: 10,
    });
    expect(res.body.score).toBe(51.7);
    await t.http.get('/v1/merchants/00000000-0000-4000-8000-000000000009/credit').expect(404);
  });

  it('exposes escalations, the regional rate, overdue and queue depths on /metrics', async () => {
    const m = await t.http.get('/metrics');
    if (m.status !== 200) console.log(m.body);
    const text = m.text;
    expect(text).toMatch(/hejie_escalations_total\{reason="merchant_no_response"\} [1-9]/);
    expect(text).toMatch(/hejie_self_resolution_rate\{region="450103"\} 0\.5/);
    expect(text).toMatch(/hejie_queue_jobs\{queue="deadlines",state="delayed"\} \d+/);
    expect(text).toContain('hejie_regulator_acceptance_overdue');
  });

  it('flags a serial complainant to the regulator, never to the merchant', async () => {
    const serialPayer = `serial${randomBytes(4).toString('hex')}`;
    const who = bearer(t.token({ role: 'consumer', sub: `sunmi-pos:${serialPayer}` }));
    const ids: string[] = [];
    const shops = [];
    for (let i = 0; i < 3; i++) {
      const shop = await createMerchantWithStore(t, { regionCode: '450103' });
      shops.push(shop);
      const r = await createReceipt(t, {
        accountId: shop.account('sunmi-pos'),
        payer: serialPayer,
      });
      ids.push(
        (await t.http.post('/v1/complaints').set(who).send(complaintBody(r.id)).expect(201)).body
          .id,
      );
    }
    const shopStaff = bearer(
      t.token({ role: 'merchant', sub: 's', merchantId: shops[0].merchant.id }),
    );
    await say(t, ids[0], shopStaff);
    await t.http
      .post(`/v1/complaints/${ids[0]}/escalate`)
      .set(who)
      .send({ reason: 'No.' })
      .expect(200);
    const regulator = bearer(t.token({ role: 'regulator', sub: 'r', officeId }));
    expect(
      (await t.http.get(`/v1/complaints/${ids[0]}`).set(regulator).expect(200)).body
        .serialComplainant,
    ).toBe(true);
    const asMerchant = (await t.http.get(`/v1/complaints/${ids[0]}`).set(shopStaff).expect(200))
      .body;
    expect(asMerchant).not.toHaveProperty('serialComplainant');
    const list = await t.http.get('/v1/stats/serial-complainants').set(regulator).expect(200);
    expect(list.body.items.map((x: { consumerId: string }) => x.consumerId)).toContain(
      `sunmi-pos:${serialPayer}`,
    );
    await t.http.get('/v1/stats/serial-complainants').set(shopStaff).expect(403);
    await t.http.get('/v1/stats/repeat-offenders').set(regulator).expect(200);
  });
});
