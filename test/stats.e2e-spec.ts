import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { bearer, metricsAuth, startTestApp, TestApp } from './helpers/test-app';
import { createMerchantWithStore } from './factories/directory.factory';
import {
  COMPLAINANT,
  complaintBody,
  createOffice,
  createReceipt,
} from './factories/complaint.factory';
import { spawnWorker, waitFor } from './helpers/worker-process';
import { FakeClock } from './helpers/fake-clock';
import { startTestWorker } from './helpers/test-worker';
import { systemClock } from '../libs/shared/src/clock';
import {
  medianFromHistogram,
  resolveBucket,
  RESOLVE_HOUR_BUCKETS,
} from '../libs/complaints/src/stats/measures';
import { StatsService } from '../libs/complaints/src/stats/stats.service';
import { REGION_HOUR_COLUMNS } from '../libs/complaints/src/stats/region-rollups';
import { RegionHoursInDaily1765100100000 } from '../migrations/1765100100000-RegionHoursInDaily';

type Headers = { Authorization: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one sample of /metrics, or undefined when the line is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((x) => x.startsWith(`${name}{${l}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * Other suites of the run share the database and the queues: read a figure, scrape, read it
 * again, and keep the scrape only when nothing moved meanwhile.
 */
async function scrapeSteady<T>(
  t: TestApp,
  read: () => Promise<T>,
): Promise<{ value: T; text: string }> {
  for (let i = 0; i < 100; i++) {
    const before = await read();
    const text = (await t.http.get('/metrics').set(metricsAuth()).expect(200)).text;
    if (JSON.stringify(await read()) === JSON.stringify(before)) return { value: before, text };
    await sleep(100);
  }
  throw new Error('the figures kept moving');
}

const shanghaiDay = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);

const COUNTERS = [
  'opened',
  'self_resolved',
  'escalated_no_response',
  'escalated_unresolved',
  'escalated_consumer',
  'withdrawn',
  'first_responses',
  'first_responses_on_time',
  'unanswered_late',
  'accepted',
  'declined',
  'mediated',
  'mediation_failed',
  'verified_self_resolved',
  'escalated_settlement',
] as const;
type Counter = (typeof COUNTERS)[number];

/**
 * Every figure of the statistics for one merchant (its id) or for the tickets of some region
 * prefixes, counted straight from tickets and events (never from the rollups), for the Shanghai
 * days [from, to].
 */
async function directFigures(
  t: TestApp,
  scope: string | { prefixes: string[] },
  from: string,
  to: string,
) {
  const [where, scopeParam] =
    typeof scope === 'string'
      ? ['c.merchant_id = $1', scope]
      : ['c.region_code LIKE ANY ($1::text[])', scope.prefixes.map((p) => `${p}%`)];
  const inPeriod = `(e.at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $2 AND $3`;
  const unanswered = `e.type IN ('escalated', 'withdrawn') AND e.data->>'from' = 'awaiting_merchant'
                      AND e.at >= c.merchant_respond_by`;
  const first = `e.actor_role = 'merchant' AND e.type IN ('message', 'offer_made')
                 AND e.data->>'from' = 'awaiting_merchant'`;
  // A self-resolution is the move to resolved (an offer carried out), verified when a refund or
  // the consumer settled it.
  const resolvedEvent = `e.type IN ('offer_accepted', 'settled') AND e.data->>'to' = 'resolved'`;
  const verifiedEvent = `${resolvedEvent} AND e.data->>'settledVia' IN ('refund', 'consumer')`;
  const [r] = await t.db.query(
    `SELECT
       count(*) FILTER (WHERE e.type = 'created')::int AS opened,
       count(*) FILTER (WHERE ${resolvedEvent})::int AS self_resolved,
       count(*) FILTER (WHERE ${verifiedEvent})::int AS verified_self_resolved,
       count(*) FILTER (WHERE e.type = 'escalated' AND e.data->>'reason' = 'settlement_not_fulfilled')::int AS escalated_settlement,
       count(*) FILTER (WHERE e.type = 'escalated')::int AS escalated,
       count(*) FILTER (WHERE e.type = 'escalated' AND e.data->>'reason' = 'merchant_no_response')::int AS escalated_no_response,
       count(*) FILTER (WHERE e.type = 'escalated' AND e.data->>'reason' = 'unresolved_in_time')::int AS escalated_unresolved,
       count(*) FILTER (WHERE e.type = 'escalated' AND e.data->>'reason' = 'consumer_request')::int AS escalated_consumer,
       count(*) FILTER (WHERE e.type IN ('withdrawn', 'offer_expired'))::int AS withdrawn,
       count(*) FILTER (WHERE ${first})::int AS first_responses,
       count(*) FILTER (WHERE ${first} AND e.at <= c.merchant_respond_by)::int AS first_responses_on_time,
       count(*) FILTER (WHERE ${unanswered})::int AS unanswered_late,
       count(*) FILTER (WHERE e.type = 'accepted')::int AS accepted,
       count(*) FILTER (WHERE e.type = 'declined')::int AS declined,
       count(*) FILTER (WHERE e.type = 'mediated')::int AS mediated,
       count(*) FILTER (WHERE e.type = 'mediation_failed')::int AS mediation_failed
       FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
      WHERE ${where} AND ${inPeriod}`,
    [scopeParam, from, to],
  );
  const [{ open }] = await t.db.query(
    `SELECT count(*)::int AS open FROM complaints c
      WHERE ${where} AND status IN ('awaiting_merchant', 'in_negotiation', 'settling')`,
    [scopeParam],
  );
  const resolved: { day: string; ms: string }[] = await t.db.query(
    `SELECT to_char((e.at AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD') AS day,
            (extract(epoch FROM e.at) * 1000 - extract(epoch FROM c.created_at) * 1000)::bigint AS ms
       FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
      WHERE ${where} AND ${resolvedEvent} AND ${inPeriod}`,
    [scopeParam, from, to],
  );
  const hours = resolved.map((x) => Number(x.ms) / 3_600_000);
  const histogram = new Map<number, number>();
  for (const h of hours)
    histogram.set(resolveBucket(h), (histogram.get(resolveBucket(h)) ?? 0) + 1);
  const perDay: {
    day: string;
    self_resolved: number;
    verified_self_resolved: number;
    escalated: number;
  }[] = await t.db.query(
    `SELECT to_char((e.at AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD') AS day,
            count(*) FILTER (WHERE ${resolvedEvent})::int AS self_resolved,
            count(*) FILTER (WHERE ${verifiedEvent})::int AS verified_self_resolved,
            count(*) FILTER (WHERE e.type = 'escalated')::int AS escalated
       FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
      WHERE ${where} AND (${resolvedEvent} OR e.type = 'escalated') AND ${inPeriod}
      GROUP BY 1 ORDER BY 1`,
    [scopeParam, from, to],
  );
  const sorted = [...hours].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const exactMedian = sorted.length
    ? sorted.length % 2
      ? sorted[Math.floor(mid)]
      : (sorted[mid - 1] + sorted[mid]) / 2
    : null;
  return {
    ...(r as Record<Counter | 'escalated', number>),
    open: open as number,
    histogram,
    hoursSum: hours.reduce((a, b) => a + b, 0),
    exactMedian,
    perDay,
  };
}

type Direct = Awaited<ReturnType<typeof directFigures>>;

/** The response of GET /v1/stats/self-resolution checked, figure by figure, against `d`. */
function expectReportMatches(body: Record<string, unknown>, d: Direct): void {
  const rate = (a: number, b: number) => (a + b === 0 ? null : a / (a + b));
  expect(body).toMatchObject({
    selfResolved: d.self_resolved,
    verifiedSelfResolved: d.verified_self_resolved,
    escalated: d.escalated,
    withdrawn: d.withdrawn,
    open: d.open,
    rate: rate(d.self_resolved, d.escalated),
    verifiedRate:
      d.self_resolved + d.escalated === 0
        ? null
        : d.verified_self_resolved / (d.self_resolved + d.escalated),
    merchantOnTimeResponseRate:
      d.first_responses + d.unanswered_late === 0
        ? null
        : d.first_responses_on_time / (d.first_responses + d.unanswered_late),
    medianHoursToResolve: medianFromHistogram(d.histogram),
  });
  // The histogram's median is within the bucket of the exact median (the documented precision).
  if (d.exactMedian !== null) {
    const b = resolveBucket(d.exactMedian);
    const median = body.medianHoursToResolve as number;
    expect(median).toBeGreaterThanOrEqual(b === 0 ? 0 : RESOLVE_HOUR_BUCKETS[b - 1]);
    expect(median).toBeLessThanOrEqual(RESOLVE_HOUR_BUCKETS[b] ?? 1440);
  }
  // byDay: every day of the period; the days with tickets leaving match the direct count.
  const byDay = body.byDay as { day: string; selfResolved: number; escalated: number }[];
  const days = (Date.parse(body.to as string) - Date.parse(body.from as string)) / 86_400_000 + 1;
  expect(byDay).toHaveLength(days);
  expect(byDay[0].day).toBe(body.from);
  expect(byDay[byDay.length - 1].day).toBe(body.to);
  expect(byDay.filter((x) => x.selfResolved + x.escalated > 0)).toEqual(
    d.perDay.map((x) => ({
      day: x.day,
      selfResolved: x.self_resolved,
      verifiedSelfResolved: x.verified_self_resolved,
      escalated: x.escalated,
      rate: rate(x.self_resolved, x.escalated),
      verifiedRate:
        x.self_resolved + x.escalated === 0
          ? null
          : x.verified_self_resolved / (x.self_resolved + x.escalated),
    })),
  );
}

/** Rollup sums of one merchant, per column and per histogram bucket. */
async function rollups(t: TestApp, merchantId: string) {
  const [sums] = await t.db.query(
    `SELECT sum(opened)::int AS opened, sum(self_resolved)::int AS self_resolved,
            sum(escalated_no_response)::int AS escalated_no_response,
            sum(escalated_unresolved)::int AS escalated_unresolved,
            sum(escalated_consumer)::int AS escalated_consumer, sum(withdrawn)::int AS withdrawn,
            sum(first_responses)::int AS first_responses,
            sum(first_responses_on_time)::int AS first_responses_on_time,
            sum(unanswered_late)::int AS unanswered_late, sum(accepted)::int AS accepted,
            sum(declined)::int AS declined, sum(mediated)::int AS mediated,
            sum(mediation_failed)::int AS mediation_failed,
            sum(verified_self_resolved)::int AS verified_self_resolved,
            sum(escalated_settlement)::int AS escalated_settlement,
            sum(resolve_hours_sum)::float8 AS resolve_hours_sum
       FROM stats_daily WHERE merchant_id = $1`,
    [merchantId],
  );
  const buckets: { bucket: number; tickets: number }[] = await t.db.query(
    `SELECT bucket, sum(tickets)::int AS tickets FROM stats_resolve_hours
      WHERE merchant_id = $1 GROUP BY bucket`,
    [merchantId],
  );
  return { sums, histogram: new Map(buckets.map((b) => [Number(b.bucket), b.tickets])) };
}

async function pendingOf(t: TestApp, merchantId: string): Promise<number> {
  const [{ n }] = await t.db.query(
    `SELECT count(*)::int AS n FROM outbox o JOIN complaints c ON c.id = o.complaint_id
      WHERE c.merchant_id = $1 AND o.topic = 'stats' AND o.state = 'pending'`,
    [merchantId],
  );
  return n;
}

/**
 * A known history for one merchant in a region no other suite uses (450103), through the real
 * API and two real workers:
 *
 * | ticket     | what happens                                                   | counts as            |
 * |------------|----------------------------------------------------------------|----------------------|
 * | late       | merchant answers after its 1 s deadline, later settled         | late answer, resolved |
 * | unanswered | nobody answers; the worker escalates                            | no_response, unanswered; declined |
 * | gaveUp     | nobody answers; the consumer escalates after the deadline      | consumer, unanswered; mediation failed |
 * | leftLate   | nobody answers; the consumer withdraws after the deadline      | withdrawn, unanswered |
 * | resolved   | on-time offer, accepted                                        | on time, resolved    |
 * | escalated  | on-time message, the consumer escalates                        | on time, consumer; mediated |
 * | withdrawn  | withdrawn before the deadline                                  | withdrawn            |
 * | stillOpen  | nothing yet                                                    | open                 |
 * | unresolved | on-time message, resolution window runs out; worker escalates  | on time, unresolved; overdue at the office |
 */

/** A report's figures, without the region it was asked for (regionCode, regionName). */
function figuresOf(report: Record<string, unknown>): Record<string, unknown> {
  const { regionCode: _code, regionName: _name, ...figures } = report;
  return figures;
}

describe('self-resolution statistics: a known history through the API and two workers', () => {
  let t: TestApp; // the default clocks
  let merchantId: string;
  let staff: Headers;
  let officeId: string;
  const ids: Record<string, string> = {};
  const payer = `stats${randomBytes(4).toString('hex')}`;
  const consumer = (tt: TestApp) =>
    bearer(tt.token({ role: 'consumer', sub: `sunmi-pos:${payer}` }));
  let account: string;
  let drainedBy = 0;

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
    // Accepting leads to settling; the consumer's confirmation makes it a (verified)
    // self-resolution.
    await app.http
      .post(`/v1/complaints/${id}/settlement/confirm`)
      .set(consumer(app))
      .send({})
      .expect(200);
  }
  const regulator = () => bearer(t.token({ role: 'regulator', sub: 'officer', officeId }));

  beforeAll(async () => {
    // MERCHANT_RESPONSE_SLA 1 s on a clock set 5 s back: the late and unanswered tickets are
    // opened "5 s ago", then the clock comes back to the present (past their deadlines) instead
    // of the test sleeping. No worker running yet.
    const clock = new FakeClock(Date.now() - 5000);
    const fast = await startTestApp({ MERCHANT_RESPONSE_SLA: '1s' }, { clock });
    const shop = await createMerchantWithStore(fast, { regionCode: '450103' });
    merchantId = shop.merchant.id;
    account = shop.account('sunmi-pos');
    staff = bearer(fast.token({ role: 'merchant', sub: 'staff', merchantId }));
    officeId = (await createOffice(fast, ['4501'], 'Nanning office')).id;
    for (const k of ['late', 'unanswered', 'gaveUp', 'leftLate']) ids[k] = await open(fast);
    clock.set(Date.now());
    await say(fast, ids.late, staff); // first response, late
    await fast.http
      .post(`/v1/complaints/${ids.gaveUp}/escalate`)
      .set(consumer(fast))
      .send({ reason: 'Four days and not a word.', complainant: COMPLAINANT })
      .expect(200);
    await fast.http
      .post(`/v1/complaints/${ids.leftLate}/withdraw`)
      .set(consumer(fast))
      .send({})
      .expect(200);
    await fast.close();

    t = await startTestApp({
      MERCHANT_RESPONSE_SLA: '96h',
      SERIAL_COMPLAINANT_MIN_TICKETS: '3',
      SERIAL_COMPLAINANT_MIN_MERCHANTS: '3',
    });
    ids.resolved = await open(t);
    await settle(t, ids.resolved); // the offer is the first response, on time
    ids.escalated = await open(t);
    await say(t, ids.escalated, staff);
    await t.http
      .post(`/v1/complaints/${ids.escalated}/escalate`)
      .set(consumer(t))
      .send({ reason: 'Not repaired.', complainant: COMPLAINANT })
      .expect(200);
    ids.withdrawn = await open(t);
    await t.http
      .post(`/v1/complaints/${ids.withdrawn}/withdraw`)
      .set(consumer(t))
      .send({})
      .expect(200);
    ids.stillOpen = await open(t);
    ids.unresolved = await open(t);
    await say(t, ids.unresolved, staff);
    // Its resolution window ran out (the worker reads the deadline from PostgreSQL).
    await t.db.query(
      `UPDATE complaints SET resolve_by = now() - interval '1 second' WHERE id = $1`,
      [ids.unresolved],
    );
    await settle(t, ids.late);

    // Two workers in this process (on the present time: both deadlines have passed) run one
    // sweep each at the same time, then drain the statistics at the same time.
    const workers = await Promise.all([startTestWorker(systemClock), startTestWorker(systemClock)]);
    try {
      const statusOf = (id: string) =>
        t.db.query(`SELECT status FROM complaints WHERE id = $1`, [id]).then((r) => r[0].status);
      await Promise.all(workers.map((w) => w.sweep()));
      for (const id of [ids.unanswered, ids.unresolved])
        expect([id, await statusOf(id)]).toEqual([id, 'escalated']);
      // The office settles three of the four escalations.
      for (const id of [ids.escalated, ids.gaveUp])
        await t.http.post(`/v1/complaints/${id}/accept`).set(regulator()).expect(200);
      await t.http
        .post(`/v1/complaints/${ids.escalated}/mediation`)
        .set(regulator())
        .send({ outcome: 'agreement', settlement: 'Repair within a week.' })
        .expect(200);
      await t.http
        .post(`/v1/complaints/${ids.gaveUp}/mediation`)
        .set(regulator())
        .send({ outcome: 'failed', note: 'The merchant refused.' })
        .expect(200);
      await t.http
        .post(`/v1/complaints/${ids.unanswered}/decline`)
        .set(regulator())
        .send({ reason: 'other', detail: 'Settled by telephone.' })
        .expect(200);
      const drained = await Promise.all(workers.map((w) => w.drainStats()));
      drainedBy = drained.filter((n) => n > 0).length;
      expect(await pendingOf(t, merchantId)).toBe(0);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 120_000);
  afterAll(() => t.close());

  const admin = () => bearer(t.token({ role: 'admin' }));
  const today = () => shanghaiDay(Date.now());

  it('every figure matches a direct count over tickets and events', async () => {
    const res = await t.http
      .get(`/v1/stats/self-resolution?merchantId=${merchantId}`)
      .set(admin())
      .expect(200);
    expect(res.body.to).toBe(today());
    expect(res.body.from).toBe(shanghaiDay(Date.now() - 29 * 86_400_000));
    const d = await directFigures(t, merchantId, res.body.from, res.body.to);
    expectReportMatches(res.body, d);
    // And the known history itself.
    expect(res.body).toMatchObject({
      selfResolved: 2,
      escalated: 4,
      withdrawn: 2,
      open: 1,
      merchantOnTimeResponseRate: 3 / 7, // 3 on time of 4 answers + 3 left unanswered
      medianHoursToResolve: 0.5, // both settled within the hour: the middle of (0, 1]
    });
    expect(res.body.rate).toBeCloseTo(1 / 3);
    expect(res.body.byDay.find((x: { day: string }) => x.day === today())).toMatchObject({
      selfResolved: 2,
      escalated: 4,
    });
    expect(d).toMatchObject({
      escalated_no_response: 1,
      escalated_unresolved: 1,
      escalated_consumer: 2,
      first_responses: 4,
      first_responses_on_time: 3,
      unanswered_late: 3,
      mediated: 1,
      mediation_failed: 1,
      declined: 1,
    });
  });

  it('rollups hold each event once although two workers drained them', async () => {
    const { sums, histogram } = await rollups(t, merchantId);
    const d = await directFigures(t, merchantId, '2000-01-01', '2100-01-01');
    for (const c of COUNTERS) expect([c, sums[c]]).toEqual([c, d[c]]);
    expect(sums.resolve_hours_sum).toBeCloseTo(d.hoursSum, 6);
    expect(histogram).toEqual(d.histogram);
    expect(drainedBy).toBeGreaterThanOrEqual(1);
  });

  it('is scoped: merchant itself, regulator its jurisdiction, consumer refused', async () => {
    const asAdmin = (
      await t.http
        .get(`/v1/stats/self-resolution?merchantId=${merchantId}`)
        .set(admin())
        .expect(200)
    ).body;
    // The merchant gets its own figures without asking, and may name itself.
    const own = bearer(t.token({ role: 'merchant', sub: 's', merchantId }));
    expect((await t.http.get('/v1/stats/self-resolution').set(own).expect(200)).body).toEqual(
      asAdmin,
    );
    await t.http.get(`/v1/stats/self-resolution?merchantId=${merchantId}`).set(own).expect(200);
    // Another merchant sees none of it: its own (empty) figures, or 403 when it names ours.
    const other = bearer(
      t.token({ role: 'merchant', sub: 's', merchantId: '00000000-0000-4000-8000-000000000001' }),
    );
    const otherOwn = await t.http.get('/v1/stats/self-resolution').set(other).expect(200);
    expect(otherOwn.body).toMatchObject({ selfResolved: 0, escalated: 0, open: 0, rate: null });
    const forbidden = await t.http
      .get(`/v1/stats/self-resolution?merchantId=${merchantId}`)
      .set(other)
      .expect(403);
    expect(forbidden.body.code).toBe('FORBIDDEN');
    // The regulator of 4501: its whole jurisdiction is this merchant here, a region inside it
    // too; a region outside is 403.
    const whole = await t.http.get('/v1/stats/self-resolution').set(regulator()).expect(200);
    expect(whole.body).toEqual(asAdmin);
    const inside = await t.http
      .get('/v1/stats/self-resolution?regionCode=450103')
      .set(regulator())
      .expect(200);
    expect(inside.body).toMatchObject({ regionCode: '450103', regionName: '青秀区' });
    expect(figuresOf(inside.body)).toEqual(figuresOf(asAdmin));
    await t.http.get('/v1/stats/self-resolution?regionCode=330106').set(regulator()).expect(403);
    // An office elsewhere (a province no other suite routes to) sees nothing of this merchant.
    const chengdu = await createOffice(t, ['5101'], 'Chengdu office');
    const elsewhere = bearer(t.token({ role: 'regulator', sub: 'r2', officeId: chengdu.id }));
    const none = await t.http
      .get(`/v1/stats/self-resolution?merchantId=${merchantId}`)
      .set(elsewhere)
      .expect(200);
    expect(none.body).toMatchObject({ selfResolved: 0, escalated: 0, withdrawn: 0, open: 0 });
    // Consumers have no statistics; no token is 401.
    expect(
      (await t.http.get('/v1/stats/self-resolution').set(consumer(t)).expect(403)).body.code,
    ).toBe('FORBIDDEN');
    await t.http.get('/v1/stats/self-resolution').expect(401);
  });

  it('refuses bad periods and unknown parameters with 400 VALIDATION_FAILED', async () => {
    const own = bearer(t.token({ role: 'merchant', sub: 's', merchantId }));
    for (const q of [
      'from=2026-13-01',
      'to=2026-02-30',
      'from=yesterday',
      'from=2026-11-30&to=2026-11-01',
      'from=2025-01-01&to=2026-11-01', // over 366 days
      'regionCode=33AB',
      'merchantId=not-a-uuid',
      'colour=blue',
    ]) {
      const res = await t.http.get(`/v1/stats/self-resolution?${q}`).set(own);
      expect([q, res.status, res.body.code]).toEqual([q, 400, 'VALIDATION_FAILED']);
    }
    // A full leap year is allowed, and lists every one of its days.
    const year = await t.http
      .get('/v1/stats/self-resolution?from=2024-01-01&to=2024-12-31')
      .set(own)
      .expect(200);
    expect(year.body.byDay).toHaveLength(366);
  });

  it('credit is public and explained by its components', async () => {
    const res = await t.http.get(`/v1/merchants/${merchantId}/credit`).expect(200);
    const byName = Object.fromEntries(
      res.body.components.map((c: { name: string }) => [c.name, c]),
    );
    // on time 3 / 7 → 30 × 0.4286 = 12.9; self-resolution 2 / 6 → 20 × 0.3333 = 6.7; both
    // confirmed by the consumer, so verified 2 / 6 → 6.7 more;
    // 4 escalations of 9 tickets = 44.4 per 100 → 20 × (1 − 44.4 / 50) = 2.2;
    // mediation 1 agreed of 2 closed → 10 × 0.5 = 5.
    expect(byName.on_time_response).toMatchObject({ weight: 30, points: 12.9 });
    expect(byName.on_time_response.value).toBeCloseTo(3 / 7);
    expect(byName.self_resolution).toMatchObject({ weight: 20, points: 6.7 });
    expect(byName.self_resolution.value).toBeCloseTo(1 / 3);
    expect(byName.verified_self_resolution).toMatchObject({ weight: 20, points: 6.7 });
    expect(byName.verified_self_resolution.value).toBeCloseTo(1 / 3);
    expect(byName.escalations).toMatchObject({ weight: 20, value: 44.4, points: 2.2 });
    expect(byName.mediation_outcomes).toMatchObject({ weight: 10, value: 0.5, points: 5 });
    expect(res.body).toMatchObject({ merchantId, score: 33.5, basis: 9 });
    for (const c of res.body.components) expect(typeof c.explanation).toBe('string');
    // Unknown merchant, or an id that cannot exist: 404.
    for (const id of ['00000000-0000-4000-8000-000000000009', 'nope']) {
      const missing = await t.http.get(`/v1/merchants/${id}/credit`).expect(404);
      expect(missing.body.code).toBe('NOT_FOUND');
    }
  });

  it('exposes escalations by reason, the regional rate, overdue tickets and queue depths on /metrics', async () => {
    // The escalation still waiting at the office is now past its acceptance limit.
    await t.db.query(
      `UPDATE complaints SET accept_by = now() - interval '1 minute' WHERE id = $1`,
      [ids.unresolved],
    );
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const prefix = process.env.QUEUE_PREFIX;
      const { value, text } = await scrapeSteady(t, async () => {
        const [byReason] = await t.db.query(
          `SELECT coalesce(sum(escalated_no_response), 0)::int AS merchant_no_response,
                  coalesce(sum(escalated_unresolved), 0)::int AS unresolved_in_time,
                  coalesce(sum(escalated_consumer), 0)::int AS consumer_request FROM stats_region_daily`,
        );
        const [overdue] = await t.db.query(
          `SELECT count(*)::int AS n FROM complaints
            WHERE office_id = $1 AND status = 'escalated' AND accept_by < now()`,
          [officeId],
        );
        const delayed = await redis.zcard(`${prefix}:deadlines:delayed`);
        return { byReason, overdue: overdue.n, delayed };
      });
      for (const [reason, n] of Object.entries(value.byReason as Record<string, number>))
        expect([reason, sample(text, 'hejie_escalations_total', { reason })]).toEqual([reason, n]);
      expect(text).toContain('# TYPE hejie_escalations_total counter');
      expect(value.overdue).toBe(1);
      expect(sample(text, 'hejie_regulator_acceptance_overdue', { office: officeId })).toBe(1);
      // Rate over the region's last 30 days: 2 self-resolved, 4 escalated (only this merchant there).
      expect(sample(text, 'hejie_self_resolution_rate', { region: '450103' })).toBeCloseTo(1 / 3);
      // Both self-resolutions were confirmed by the consumer: the verified rate is the same.
      expect(sample(text, 'hejie_verified_self_resolution_rate', { region: '450103' })).toBeCloseTo(
        1 / 3,
      );
      expect(value.delayed).toBeGreaterThan(0); // the 96 h deadlines of the open tickets
      expect(sample(text, 'hejie_queue_jobs', { queue: 'deadlines', state: 'delayed' })).toBe(
        value.delayed,
      );
      expect(sample(text, 'hejie_queue_jobs', { queue: 'stats', state: 'waiting' })).toBeDefined();
    } finally {
      await redis.quit();
    }
  });

  it('flags a serial complainant to regulators and admins, never to the merchant or the consumer', async () => {
    // Shops in Liuzhou (4502) with an office of their own: the known history's region (4501)
    // and its figures stay as the other tests expect, whichever order they run in.
    const liuzhou = (await createOffice(t, ['4502'], 'Liuzhou office')).id;
    const officer = () => bearer(t.token({ role: 'regulator', sub: 'officer', officeId: liuzhou }));
    const serialPayer = `serial${randomBytes(4).toString('hex')}`;
    const who = bearer(t.token({ role: 'consumer', sub: `sunmi-pos:${serialPayer}` }));
    const tickets: string[] = [];
    const shops = [];
    for (let i = 0; i < 3; i++) {
      const shop = await createMerchantWithStore(t, { regionCode: '450202' });
      shops.push(shop);
      const r = await createReceipt(t, {
        accountId: shop.account('sunmi-pos'),
        payer: serialPayer,
      });
      tickets.push(
        (await t.http.post('/v1/complaints').set(who).send(complaintBody(r.id)).expect(201)).body
          .id,
      );
    }
    const shopStaff = bearer(
      t.token({ role: 'merchant', sub: 's', merchantId: shops[0].merchant.id }),
    );
    await say(t, tickets[0], shopStaff);
    await t.http
      .post(`/v1/complaints/${tickets[0]}/escalate`)
      .set(who)
      .send({ reason: 'No.', complainant: COMPLAINANT })
      .expect(200);
    const flag = async (h: Headers) =>
      (await t.http.get(`/v1/complaints/${tickets[0]}`).set(h).expect(200)).body;
    expect((await flag(officer())).serialComplainant).toBe(true);
    expect((await flag(admin())).serialComplainant).toBe(true);
    expect(await flag(shopStaff)).not.toHaveProperty('serialComplainant');
    expect(await flag(who)).not.toHaveProperty('serialComplainant');
    // Not in lists either, nor in the answer to an action.
    const merchantList = await t.http
      .get('/v1/complaints?status=escalated')
      .set(shopStaff)
      .expect(200);
    expect(merchantList.body.items.length).toBeGreaterThan(0);
    for (const item of merchantList.body.items)
      expect(item).not.toHaveProperty('serialComplainant');
    const consumerList = await t.http.get('/v1/complaints').set(who).expect(200);
    expect(consumerList.body.items).toHaveLength(3);
    for (const item of consumerList.body.items)
      expect(item).not.toHaveProperty('serialComplainant');
    const officeList = await t.http.get('/v1/complaints').set(officer()).expect(200);
    expect(
      officeList.body.items.find((x: { id: string }) => x.id === tickets[0]).serialComplainant,
    ).toBe(true);
    const withdrawn = await t.http
      .post(`/v1/complaints/${tickets[1]}/withdraw`)
      .set(who)
      .send({})
      .expect(200);
    expect(withdrawn.body).not.toHaveProperty('serialComplainant');
    // The ordinary complainant of the known history is no serial complainant.
    expect(
      (await t.http.get(`/v1/complaints/${ids.unresolved}`).set(regulator()).expect(200)).body,
    ).toMatchObject({ serialComplainant: false });

    const list = await t.http.get('/v1/stats/serial-complainants').set(officer()).expect(200);
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ consumerId: `sunmi-pos:${serialPayer}`, tickets: 3, merchants: 3 }),
    );
    // Many tickets, one merchant: the known history's complainant is not listed in 4501.
    const home = await t.http.get('/v1/stats/serial-complainants').set(regulator()).expect(200);
    expect(home.body.items.map((x: { consumerId: string }) => x.consumerId)).not.toContain(
      `sunmi-pos:${payer}`,
    );
    await t.http.get('/v1/stats/serial-complainants').set(admin()).expect(200);
    for (const h of [shopStaff, who]) {
      await t.http.get('/v1/stats/serial-complainants').set(h).expect(403);
      await t.http.get('/v1/stats/repeat-offenders').set(h).expect(403);
    }
    // An office elsewhere does not see this consumer's tickets in 4502.
    const guiyang = await createOffice(t, ['5201'], 'Guiyang office');
    const elsewhere = bearer(t.token({ role: 'regulator', sub: 'r3', officeId: guiyang.id }));
    const far = await t.http.get('/v1/stats/serial-complainants').set(elsewhere).expect(200);
    expect(far.body.items.map((x: { consumerId: string }) => x.consumerId)).not.toContain(
      `sunmi-pos:${serialPayer}`,
    );
    // The office's answer to an action on the ticket carries the flag too.
    const accepted = await t.http
      .post(`/v1/complaints/${tickets[0]}/accept`)
      .set(officer())
      .expect(200);
    expect(accepted.body).toMatchObject({ status: 'mediating', serialComplainant: true });
  });
});

/**
 * Volume: 5,400 tickets of a known mix written straight into PostgreSQL (tickets, events and
 * their outbox rows, as the service writes them), drained by two worker processes and four
 * concurrent drains in the test process, all at once; and 540 more of the same mix for a second
 * merchant in the next district (460106), so that the region rollups sum two merchants.
 */
describe('self-resolution statistics: bulk history drained by two workers', () => {
  let t: TestApp;
  let merchantId: string;
  let neighbourId: string; // the second merchant, in 460106
  const K = 600; // tickets per kind; nine kinds
  let logs: string[] = [];
  let drainedHere = 0;
  let eventCount = 0;

  async function seedTickets(regionCode: string, perKind: number): Promise<string> {
    const { merchant, store } = await createMerchantWithStore(t, { regionCode });
    const tag = randomBytes(4).toString('hex');
    await t.db.query(
      `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code, amount_minor,
                             currency, paid_at, subject, fingerprint, raw_notification, raw_content_type)
       SELECT 'bulkstats', $1 || '-' || g, 'bulkstats:' || $1 || g, 'acct', $2, $3, $5, 1000, 'CNY',
              now() - interval '20 days', 'bulk item', repeat('0', 64), '{}', 'application/json'
         FROM generate_series(1, $4::int) g`,
      [tag, merchant.id, store.id, 9 * perKind, regionCode],
    );
    // Kinds 0–7 were opened 7 to 16.5 days ago; kind 8 an hour ago and still waits (its deadline
    // is ahead, so the sweep leaves it alone).
    await t.db.query(
      `INSERT INTO complaints (number, status, receipt_id, consumer_id, merchant_id, store_id, region_code, order_snapshot,
                               category, demand_type, description, merchant_respond_by, resolve_by, created_at, escalated_at)
       SELECT 'BSTAT-' || $1 || '-' || x.g, x.status, x.id, x.payer_id, x.merchant_id, x.store_id, x.region_code, '{}'::jsonb,
              'quality', 'repair', 'bulk complaint text', x.created + interval '96 hours', x.created + interval '7 days', x.created,
              -- as the app leaves an escalated ticket (the admins' queue sorts on it)
              CASE WHEN x.status = 'escalated' THEN x.created + interval '96 hours' END
         FROM (SELECT r.*, split_part(r.trade_no, '-', 2)::int AS g,
                      CASE split_part(r.trade_no, '-', 2)::int % 9
                        WHEN 0 THEN 'resolved' WHEN 1 THEN 'resolved' WHEN 4 THEN 'withdrawn'
                        WHEN 7 THEN 'withdrawn' WHEN 8 THEN 'awaiting_merchant' ELSE 'escalated' END AS status,
                      CASE WHEN split_part(r.trade_no, '-', 2)::int % 9 = 8 THEN date_trunc('second', now()) - interval '1 hour'
                           ELSE date_trunc('second', now())
                                - (7 + split_part(r.trade_no, '-', 2)::int % 10) * interval '1 day'
                                - (split_part(r.trade_no, '-', 2)::int % 13) * interval '1 hour' END AS created
                 FROM receipts r WHERE r.provider = 'bulkstats' AND r.trade_no LIKE $1 || '-%') x`,
      [tag],
    );
    return merchant.id;
  }

  beforeAll(async () => {
    t = await startTestApp();
    merchantId = await seedTickets('460105', K);
    neighbourId = await seedTickets('460106', K / 10);
    const tickets: { id: string; created_at: Date; g: number }[] = await t.db.query(
      `SELECT id, created_at, split_part(number, '-', 3)::int AS g FROM complaints WHERE merchant_id = ANY($1)`,
      [[merchantId, neighbourId]],
    );
    const H = 3_600_000;
    const ev: [string, number, string, string, string, Date, string][] = [];
    for (const { id, created_at, g } of tickets) {
      const c = created_at.getTime();
      let seq = 0;
      const add = (type: string, role: string, at: number, data: Record<string, unknown> = {}) =>
        ev.push([id, ++seq, type, role, `${role}-bulk`, new Date(at), JSON.stringify(data)]);
      const move = (from: string, to: string) => ({ from, to });
      add('created', 'consumer', c);
      switch (g % 9) {
        case 0: // answered on time by an offer, accepted after 2 to 110 hours
          add('offer_made', 'merchant', c + H, move('awaiting_merchant', 'in_negotiation'));
          add(
            'offer_accepted',
            'consumer',
            c + (2 + (g % 37) * 3) * H,
            move('in_negotiation', 'resolved'),
          );
          break;
        case 1: // answered late, then settled
          add('message', 'merchant', c + 100 * H, move('awaiting_merchant', 'in_negotiation'));
          add('offer_made', 'merchant', c + 101 * H);
          add(
            'offer_accepted',
            'consumer',
            c + (102 + (g % 20)) * H,
            move('in_negotiation', 'resolved'),
          );
          break;
        case 2: // never answered: the worker escalated
          add('escalated', 'system', c + 96 * H, {
            ...move('awaiting_merchant', 'escalated'),
            reason: 'merchant_no_response',
          });
          break;
        case 3: // answered on time, the consumer escalated
          add('message', 'merchant', c + 2 * H, move('awaiting_merchant', 'in_negotiation'));
          add('escalated', 'consumer', c + 50 * H, {
            ...move('in_negotiation', 'escalated'),
            reason: 'consumer_request',
          });
          break;
        case 4: // withdrawn before the deadline
          add('withdrawn', 'consumer', c + 10 * H, move('awaiting_merchant', 'withdrawn'));
          break;
        case 5: // answered on time, unresolved in time
          add('message', 'merchant', c + 5 * H, move('awaiting_merchant', 'in_negotiation'));
          add('escalated', 'system', c + 140 * H, {
            ...move('in_negotiation', 'escalated'),
            reason: 'unresolved_in_time',
          });
          break;
        case 6: // never answered: the consumer escalated after the deadline
          add('escalated', 'consumer', c + 97 * H, {
            ...move('awaiting_merchant', 'escalated'),
            reason: 'consumer_request',
          });
          break;
        case 7: // never answered: withdrawn after the deadline
          add('withdrawn', 'consumer', c + 98 * H, move('awaiting_merchant', 'withdrawn'));
          break;
      }
    }
    const col = <I extends number>(i: I) => ev.map((e) => e[i]);
    await t.db.query(
      `INSERT INTO complaint_events (complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash)
       SELECT x.*, repeat('0', 64), repeat('0', 64)
         FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[]) x`,
      [col(0), col(1), col(2), col(3), col(4), col(5), col(6)],
    );
    // The outbox rows, as the change writer writes them in each ticket's transaction.
    await t.db.query(
      `INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, created_at)
       SELECT 'stats', e.complaint_id, e.seq, e.type,
              jsonb_build_object('status', c.status, 'actor', jsonb_build_object('role', e.actor_role, 'id', e.actor_id),
                                 'at', e.at, 'data', e.data), e.at
         FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
        WHERE c.merchant_id = ANY($1) ORDER BY e.at`,
      [[merchantId, neighbourId]],
    );
    expect((await pendingOf(t, merchantId)) + (await pendingOf(t, neighbourId))).toBe(ev.length);
    eventCount = ev.length;

    // Four drains in this process, on their own connections, start while two workers boot and
    // drain too: whoever gets there first takes rows, and none is counted twice (the rollups
    // below equal the direct counts). Which side wins the race is not fixed, so the test
    // checks the total drained, not who drained.
    const stats = t.app.get(StatsService);
    const drainer = async () => {
      for (let n = 1; n > 0; drainedHere += n) n = await stats.drainBatch(200);
    };
    const booting = Promise.all([
      spawnWorker({ SWEEP_INTERVAL: '1s' }),
      spawnWorker({ SWEEP_INTERVAL: '1s' }),
    ]);
    await Promise.all([drainer(), drainer(), drainer(), drainer()]);
    const workers = await booting;
    try {
      await waitFor(
        async () => (await pendingOf(t, merchantId)) + (await pendingOf(t, neighbourId)),
        (n) => n === 0,
        60_000,
        250,
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      logs = workers.map((w) => w.log());
    }
  }, 120_000);
  afterAll(() => t.close());

  it('rollups equal the direct counts, column by column and bucket by bucket (exactly once)', async () => {
    const { sums, histogram } = await rollups(t, merchantId);
    const d = await directFigures(t, merchantId, '2000-01-01', '2100-01-01');
    for (const c of COUNTERS) expect([c, sums[c]]).toEqual([c, d[c]]);
    expect(sums.resolve_hours_sum).toBeCloseTo(d.hoursSum, 3);
    expect(histogram).toEqual(d.histogram);
    expect(sums).toMatchObject({
      opened: 9 * K,
      self_resolved: 2 * K,
      escalated_no_response: K,
      escalated_unresolved: K,
      escalated_consumer: 2 * K,
      withdrawn: 2 * K,
      first_responses: 4 * K,
      first_responses_on_time: 3 * K,
      unanswered_late: 3 * K,
    });
    // Every row was drained (here or in a worker), and no drain failed (no deadlock).
    const drainedInWorkers = logs
      .flatMap((l) => [...l.matchAll(/stats: drained (\d+) events/g)])
      .reduce((sum, m) => sum + Number(m[1]), 0);
    expect(drainedHere + drainedInWorkers).toBeGreaterThanOrEqual(eventCount);
    for (const l of logs) expect(l).not.toMatch(/drain failed/);
  });

  it('the report over 20 days matches a direct count, day by day, with the median from the histogram', async () => {
    const from = shanghaiDay(Date.now() - 20 * 86_400_000);
    const to = shanghaiDay(Date.now());
    const res = await t.http
      .get(`/v1/stats/self-resolution?merchantId=${merchantId}&from=${from}&to=${to}`)
      .set(bearer(t.token({ role: 'admin' })))
      .expect(200);
    const d = await directFigures(t, merchantId, from, to);
    expectReportMatches(res.body, d);
    expect(res.body).toMatchObject({
      selfResolved: 2 * K,
      escalated: 4 * K,
      withdrawn: 2 * K,
      open: K,
    });
    expect(res.body.merchantOnTimeResponseRate).toBeCloseTo(3 / 7);
    expect(
      res.body.byDay.filter((x: { escalated: number }) => x.escalated > 0).length,
    ).toBeGreaterThan(5);

    // A shorter window counts only the tickets that LEFT the merchant phase in it.
    const week = shanghaiDay(Date.now() - 6 * 86_400_000);
    const recent = await t.http
      .get(`/v1/stats/self-resolution?merchantId=${merchantId}&from=${week}&to=${to}`)
      .set(bearer(t.token({ role: 'admin' })))
      .expect(200);
    expectReportMatches(recent.body, await directFigures(t, merchantId, week, to));
    expect(recent.body.selfResolved + recent.body.escalated).toBeLessThan(6 * K);
  });

  it('region rollups equal the per-merchant ones summed by day and region (exactly once)', async () => {
    const regions = ['460105', '460106'];
    const cols = COUNTERS.map((c) => `sum(${c})::int AS ${c}`).join(', ');
    const summed = await t.db.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, region_code, ${cols},
              round(sum(resolve_hours_sum)::numeric, 6)::float8 AS resolve_hours_sum
         FROM stats_daily WHERE region_code = ANY($1) GROUP BY 1, 2 ORDER BY 1, 2`,
      [regions],
    );
    const region = await t.db.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, region_code, ${cols},
              round(sum(resolve_hours_sum)::numeric, 6)::float8 AS resolve_hours_sum
         FROM stats_region_daily WHERE region_code = ANY($1) GROUP BY 1, 2 ORDER BY 1, 2`,
      [regions],
    );
    expect(summed.length).toBeGreaterThan(10);
    expect(new Set(summed.map((r: { region_code: string }) => r.region_code))).toEqual(
      new Set(regions),
    );
    expect(region).toEqual(summed);
    const hours = (
      table: string,
      via: { query(sql: string, p: unknown[]): Promise<unknown[]> } = t.db,
    ) =>
      via.query(
        `SELECT to_char(day, 'YYYY-MM-DD') AS day, region_code, bucket, sum(tickets)::int AS tickets
           FROM ${table} WHERE region_code = ANY($1) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        [regions],
      );
    const summedHours = await hours('stats_resolve_hours');
    expect(summedHours.length).toBeGreaterThan(10);
    // The region histogram: one column per bucket of the region's daily row.
    const regionHours = () =>
      t.db.query(
        `SELECT to_char(d.day, 'YYYY-MM-DD') AS day, d.region_code, h.bucket, h.tickets
           FROM stats_region_daily d,
                LATERAL (VALUES ${REGION_HOUR_COLUMNS.map((c, b) => `(${b}, d.${c})`).join(', ')})
                  AS h(bucket, tickets)
          WHERE d.region_code = ANY($1) AND h.tickets <> 0 ORDER BY 1, 2, 3`,
        [regions],
      );
    expect(await regionHours()).toEqual(summedHours);
    // The migration that moved it there works on this data both ways: down rebuilds the
    // table of (day, region, bucket) rows from the columns, up folds it back.
    const migration = new RegionHoursInDaily1765100100000();
    const qr = t.db.createQueryRunner();
    try {
      await qr.startTransaction();
      await migration.down(qr);
      expect(await hours('stats_region_resolve_hours', qr)).toEqual(summedHours);
      await migration.up(qr);
      await qr.commitTransaction();
    } catch (e) {
      await qr.rollbackTransaction();
      throw e;
    } finally {
      await qr.release();
    }
    expect(await regionHours()).toEqual(summedHours);
  });

  it('city, district, a two-prefix jurisdiction and a merchant match direct counts', async () => {
    const from = shanghaiDay(Date.now() - 20 * 86_400_000);
    const to = shanghaiDay(Date.now());
    const admin = bearer(t.token({ role: 'admin' }));
    const report = async (query: string, who: Headers) =>
      (
        await t.http
          .get(`/v1/stats/self-resolution?from=${from}&to=${to}${query}`)
          .set(who)
          .expect(200)
      ).body;
    // The city (both districts, from the region rollups) and each district.
    const city = await report('&regionCode=4601', admin);
    expectReportMatches(city, await directFigures(t, { prefixes: ['4601'] }, from, to));
    expect(city).toMatchObject({
      selfResolved: 2 * K + 2 * (K / 10),
      escalated: 4 * K + 4 * (K / 10),
      open: K + K / 10,
    });
    for (const district of ['460105', '460106']) {
      const d = await report(`&regionCode=${district}`, admin);
      expectReportMatches(d, await directFigures(t, { prefixes: [district] }, from, to));
    }
    expect((await report('&regionCode=460106', admin)).selfResolved).toBe(2 * (K / 10));
    // A regulator whose jurisdiction is the two districts, named apart: two ranges.
    const office = await createOffice(t, ['460106', '460105'], 'Haikou districts office');
    const regulator = bearer(t.token({ role: 'regulator', sub: 'r46', officeId: office.id }));
    const jurisdiction = await report('', regulator);
    expectReportMatches(
      jurisdiction,
      await directFigures(t, { prefixes: ['460105', '460106'] }, from, to),
    );
    expect(figuresOf(jurisdiction)).toEqual(figuresOf(city));
    expect(await report('&regionCode=460106', regulator)).toEqual(
      await report('&regionCode=460106', admin),
    );
    // The second merchant with its own token (the per-merchant rollups).
    const own = bearer(t.token({ role: 'merchant', sub: 's', merchantId: neighbourId }));
    const mine = await report('', own);
    expectReportMatches(mine, await directFigures(t, neighbourId, from, to));
    expect(figuresOf(mine)).toEqual(figuresOf(await report('&regionCode=460106', admin)));
  });
});
