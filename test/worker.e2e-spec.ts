import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createMerchantWithStore } from './factories/directory.factory';
import { createReceipt } from './factories/complaint.factory';
import { spawnWorker, waitFor } from './helpers/worker-process';
import { assertOneProcessorPerJob, DEADLINES_QUEUE } from '../libs/complaints/src/jobs/jobs';

/** Deletes every key of this run's queue prefix: Redis "lost everything". */
async function emptyRedis(): Promise<number> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${process.env.QUEUE_PREFIX}*`,
      'COUNT',
      1000,
    );
    if (keys.length) n += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
  return n;
}

async function openTicket(t: TestApp, regionCode = '330106') {
  const { merchant, account } = await createMerchantWithStore(t, { regionCode });
  const receipt = await createReceipt(t, { accountId: account('sunmi-pos') });
  const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
  const res = await t.http
    .post('/v1/complaints')
    .set(consumer)
    .send({
      receiptId: receipt.id,
      category: 'quality',
      demand: { type: 'repair' },
      description: 'The kettle stopped heating.',
    })
    .expect(201);
  return { ticket: res.body as { id: string; merchantRespondBy: string }, merchant, consumer };
}

const status = async (t: TestApp, id: string): Promise<string> =>
  (await t.db.query('SELECT status FROM complaints WHERE id = $1', [id]))[0].status;

describe('worker: deadlines', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MERCHANT_RESPONSE_SLA: '2s', RESOLUTION_SLA: '1h' });
  });
  afterAll(() => t.close());

  it('escalates an unanswered ticket when its delayed job fires, once, to the covering office', async () => {
    const office = await t.http
      .post('/v1/offices')
      .set(bearer(t.token({ role: 'admin' })))
      .send({ name: 'Gongshu office', regionCodes: ['330105'] })
      .expect(201);
    // A long sweep interval: only the delayed job can fire in time.
    const worker = await spawnWorker({ SWEEP_INTERVAL: '1h', MERCHANT_RESPONSE_SLA: '2s' });
    try {
      const { ticket } = await openTicket(t, '330105');
      const due = new Date(ticket.merchantRespondBy).getTime();
      const s = await waitFor(
        () => status(t, ticket.id),
        (v) => v === 'escalated',
        8000,
      );
      expect(s).toBe('escalated');
      const [row] = await t.db.query(
        'SELECT escalated_at, escalation_reason, office_id FROM complaints WHERE id = $1',
        [ticket.id],
      );
      expect(row.escalation_reason).toBe('merchant_no_response');
      expect(row.office_id).toBe(office.body.id);
      expect(new Date(row.escalated_at).getTime()).toBeGreaterThanOrEqual(due);
      const events = await t.db.query(
        `SELECT actor_role FROM complaint_events WHERE complaint_id = $1 AND type = 'escalated'`,
        [ticket.id],
      );
      expect(events).toEqual([{ actor_role: 'system' }]);
    } finally {
      expect(await worker.stop()).toMatchObject({ graceful: true });
    }
  });

  it('does not escalate a ticket the merchant answered in time', async () => {
    const worker = await spawnWorker({ SWEEP_INTERVAL: '1s' });
    try {
      const { ticket, merchant } = await openTicket(t);
      await t.http
        .post(`/v1/complaints/${ticket.id}/messages`)
        .set(bearer(t.token({ role: 'merchant', sub: 'staff', merchantId: merchant.id })))
        .send({ body: 'We will repair it tomorrow.' })
        .expect(201);
      await new Promise((r) => setTimeout(r, 3500));
      expect(await status(t, ticket.id)).toBe('in_negotiation');
    } finally {
      await worker.stop();
    }
  });

  it('still escalates within one sweep interval after Redis lost every job', async () => {
    const { ticket } = await openTicket(t);
    expect(await emptyRedis()).toBeGreaterThan(0); // the delayed job was there, and is gone
    const worker = await spawnWorker({ SWEEP_INTERVAL: '1s' });
    // Measured from when the worker is up (it had no job to wake it: only its sweep can find the
    // ticket), so a slow boot on a busy machine does not count against the sweep.
    const ready = Date.now();
    try {
      const due = new Date(ticket.merchantRespondBy).getTime();
      const s = await waitFor(
        () => status(t, ticket.id),
        (v) => v === 'escalated',
        10_000,
      );
      expect(s).toBe('escalated');
      const [row] = await t.db.query('SELECT escalated_at FROM complaints WHERE id = $1', [
        ticket.id,
      ]);
      // Within one sweep interval (1 s) of the later of the deadline and the worker's start,
      // with 2 s for the sweep's own transaction on a loaded machine.
      expect(new Date(row.escalated_at).getTime() - Math.max(due, ready)).toBeLessThan(1000 + 2000);
    } finally {
      await worker.stop();
    }
  });

  it('a job name without a processor stops the worker at boot (registry check)', async () => {
    expect(() =>
      assertOneProcessorPerJob({ [DEADLINES_QUEUE]: { 'deadline.check': () => 0 } }),
    ).toThrow(/deadline.sweep/);
  });
});

describe('worker: exactly once under two worker processes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('5,000 tickets falling due together are each escalated once, with one event each', async () => {
    const { merchant, store } = await createMerchantWithStore(t);
    const tag = randomBytes(4).toString('hex');
    // Bulk history straight into PostgreSQL: 5,000 receipts and tickets already past their deadline.
    await t.db.query(
      `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code, amount_minor,
                             currency, paid_at, subject, fingerprint, raw_notification, raw_content_type)
       SELECT 'bulk', $1 || '-' || g, 'bulk:c' || g, 'acct', $2, $3, '330106', 1000, 'CNY', now() - interval '1 day',
              'bulk item', repeat('0', 64), '{}', 'application/json'
         FROM generate_series(1, 5000) g`,
      [tag, merchant.id, store.id],
    );
    await t.db.query(
      `INSERT INTO complaints (number, status, receipt_id, consumer_id, merchant_id, store_id, region_code, order_snapshot,
                               category, demand_type, description, merchant_respond_by, resolve_by)
       SELECT 'BULK-' || $1 || '-' || r.trade_no, 'awaiting_merchant', r.id, r.payer_id, r.merchant_id, r.store_id, '330106',
              '{}'::jsonb, 'quality', 'repair', 'bulk complaint text', now() - interval '1 minute', now() + interval '1 day'
         FROM receipts r WHERE r.provider = 'bulk' AND r.trade_no LIKE $1 || '-%'`,
      [tag],
    );
    const workers = await Promise.all([
      spawnWorker({ SWEEP_INTERVAL: '1s' }),
      spawnWorker({ SWEEP_INTERVAL: '1s' }),
    ]);
    try {
      const count = () =>
        t.db
          .query(
            `SELECT count(*)::int AS n FROM complaints WHERE number LIKE $1 AND status = 'escalated'`,
            [`BULK-${tag}-%`],
          )
          .then((r: { n: number }[]) => r[0].n);
      expect(await waitFor(count, (n) => n === 5000, 90_000, 500)).toBe(5000);
      const events = await t.db.query(
        `SELECT count(*)::int AS events, count(DISTINCT e.complaint_id)::int AS tickets
           FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
          WHERE c.number LIKE $1 AND e.type = 'escalated'`,
        [`BULK-${tag}-%`],
      );
      expect(events[0]).toEqual({ events: 5000, tickets: 5000 });
      // Both processes took part (SKIP LOCKED hands them disjoint batches).
      const sweeping = workers.filter((w) => /sweep: escalated [1-9]/.test(w.log()));
      expect(sweeping.length).toBeGreaterThanOrEqual(1);
    } finally {
      const codes = await Promise.all(workers.map((w) => w.stop()));
      // Graceful shutdown on SIGTERM: running jobs finished, connections closed, then exit.
      expect(codes.map((c) => c.graceful)).toEqual([true, true]);
    }
  }, 150_000);
});
