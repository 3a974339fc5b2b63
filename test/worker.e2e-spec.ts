import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createMerchantWithStore } from './factories/directory.factory';
import { createReceipt } from './factories/complaint.factory';
import { spawnWorker, waitFor } from './helpers/worker-process';
import { FakeClock } from './helpers/fake-clock';
import { startTestWorker, TestWorker } from './helpers/test-worker';
import { assertOneProcessorPerJob, DEADLINES_QUEUE } from '../libs/complaints/src/jobs/jobs';
import { StatsService } from '../libs/complaints/src/stats/stats.service';

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

const HOUR = 3_600_000;

describe('worker: deadlines (on a fake clock)', () => {
  // The API and an in-process worker share one FakeClock: each test advances it past a deadline,
  // then runs the delayed job or the sweep once. No wall-clock wait.
  const clock = new FakeClock();
  let t: TestApp;
  let worker: TestWorker;
  beforeAll(async () => {
    t = await startTestApp({ MERCHANT_RESPONSE_SLA: '96h', RESOLUTION_SLA: '7d' }, { clock });
    worker = await startTestWorker(clock);
  });
  afterAll(async () => {
    await worker?.close();
    await t?.close();
  });

  it('escalates an unanswered ticket when its delayed job fires, once, to the covering office', async () => {
    const office = await t.http
      .post('/v1/offices')
      .set(bearer(t.token({ role: 'admin' })))
      .send({ name: 'Gongshu office', regionCodes: ['330105'] })
      .expect(201);
    const { ticket } = await openTicket(t, '330105');
    const due = new Date(ticket.merchantRespondBy).getTime();
    expect(due - clock.now().getTime()).toBe(96 * HOUR);
    const mine = (jobs: { data: unknown }[]) =>
      jobs.filter((j) => (j.data as { complaintId: string }).complaintId === ticket.id);
    // The creating request schedules nothing: the statistics drain does, when it takes the
    // ticket's 'created' outbox row (a running worker drains every second).
    expect(mine(await worker.delayedJobs())).toEqual([]);
    expect(await worker.drainStats()).toBeGreaterThanOrEqual(1);
    // A delayed job per deadline: the merchant's response and the resolution.
    const jobs = mine(await worker.delayedJobs()).map((j) => j.data as { kind: string });
    expect(jobs.find((d) => d.kind === 'merchant_response')).toMatchObject({
      dueAt: ticket.merchantRespondBy,
    });
    expect(jobs.map((d) => d.kind).sort()).toEqual(['merchant_response', 'resolution']);

    // A second before the deadline the job is not due yet, and the ticket waits.
    clock.set(due - 1000);
    expect(mine(await worker.runDueJobs())).toEqual([]);
    expect(await status(t, ticket.id)).toBe('awaiting_merchant');

    clock.set(due);
    expect(mine(await worker.runDueJobs())).toEqual([
      expect.objectContaining({ result: { escalated: 'merchant_no_response' } }),
    ]);
    const [row] = await t.db.query(
      'SELECT status, escalated_at, escalation_reason, office_id FROM complaints WHERE id = $1',
      [ticket.id],
    );
    expect(row.status).toBe('escalated');
    expect(row.escalation_reason).toBe('merchant_no_response');
    expect(row.office_id).toBe(office.body.id);
    expect(new Date(row.escalated_at).getTime()).toBe(due);
    // Once: the sweep after it finds nothing more to do for this ticket.
    clock.advance('1m');
    await worker.sweep();
    const events = await t.db.query(
      `SELECT actor_role FROM complaint_events WHERE complaint_id = $1 AND type = 'escalated'`,
      [ticket.id],
    );
    expect(events).toEqual([{ actor_role: 'system' }]);
  });

  it('does not escalate a ticket the merchant answered in time', async () => {
    const { ticket, merchant } = await openTicket(t);
    await worker.drainStats(); // its deadline jobs
    clock.advance('95h');
    await t.http
      .post(`/v1/complaints/${ticket.id}/messages`)
      .set(bearer(t.token({ role: 'merchant', sub: 'staff', merchantId: merchant.id })))
      .send({ body: 'We will repair it tomorrow.' })
      .expect(201);
    clock.advance('2h'); // past merchantRespondBy, well before resolveBy
    const ran = (await worker.runDueJobs()).filter(
      (j) => (j.data as { complaintId: string }).complaintId === ticket.id,
    );
    expect(ran).toEqual([expect.objectContaining({ result: { escalated: false } })]);
    await worker.sweep();
    expect(await status(t, ticket.id)).toBe('in_negotiation');
  });

  it('the sweep escalates a due ticket whose delayed job Redis lost', async () => {
    const { ticket } = await openTicket(t);
    await worker.drainStats(); // its deadline jobs
    expect(await emptyRedis()).toBeGreaterThan(0); // the delayed job was there, and is gone
    expect(await worker.delayedJobs()).toEqual([]);
    const due = new Date(ticket.merchantRespondBy).getTime();
    clock.set(due - 1);
    await worker.sweep();
    expect(await status(t, ticket.id)).toBe('awaiting_merchant');
    clock.set(due);
    await worker.sweep();
    const [row] = await t.db.query(
      'SELECT status, escalated_at, escalation_reason FROM complaints WHERE id = $1',
      [ticket.id],
    );
    expect(row).toEqual({
      status: 'escalated',
      escalated_at: new Date(due),
      escalation_reason: 'merchant_no_response',
    });
  });

  it('runs at most two sweep jobs at once in a process; one beyond them returns at once', async () => {
    const { ticket } = await openTicket(t);
    clock.set(new Date(ticket.merchantRespondBy).getTime());
    const results = await Promise.all([1, 2, 3].map(() => worker.sweepJob()));
    expect(results.filter((r) => 'skipped' in r)).toEqual([
      { skipped: '2 sweeps already running in this process' },
    ]);
    expect(await status(t, ticket.id)).toBe('escalated');
    // The slots are free again once those sweeps ended.
    expect(await worker.sweepJob()).toEqual({
      escalated: expect.any(Number),
      terminated: expect.any(Number),
    });
    const events = await t.db.query(
      `SELECT count(*)::int AS n FROM complaint_events WHERE complaint_id = $1 AND type = 'escalated'`,
      [ticket.id],
    );
    expect(events).toEqual([{ n: 1 }]);
  });

  it('a job name without a processor stops the worker at boot (registry check)', async () => {
    expect(() =>
      assertOneProcessorPerJob({ [DEADLINES_QUEUE]: { 'deadline.check': () => 0 } }),
    ).toThrow(/deadline.sweep/);
  });
});

// Real time, real worker processes: the wiring only (the worker's own timer enqueues its first
// sweep at boot, also after Redis lost every key; several processes share the work). The
// deadlines are already in the past, so nothing waits for one to run out.
describe('worker process: the sweep after Redis lost every job', () => {
  const clock = new FakeClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MERCHANT_RESPONSE_SLA: '96h' }, { clock });
  });
  afterAll(() => t.close());

  it('a worker started on an empty Redis escalates a ticket already overdue', async () => {
    clock.set(Date.now() - 96 * HOUR - 1000); // opened 96 h and a second ago
    const { ticket } = await openTicket(t);
    // Its deadline jobs scheduled (the drain took its 'created' row), then lost with Redis.
    while ((await t.app.get(StatsService, { strict: false }).drainBatch()) > 0);
    expect(await emptyRedis()).toBeGreaterThan(0);
    const worker = await spawnWorker({ SWEEP_INTERVAL: '1h' });
    try {
      // Only the sweep its timer enqueues at boot can find the ticket (no job, 1 h interval).
      const s = await waitFor(
        () => status(t, ticket.id),
        (v) => v === 'escalated',
        15_000,
      );
      expect(s).toBe('escalated');
    } finally {
      expect(await worker.stop()).toMatchObject({ graceful: true });
    }
  }, 120_000); // spawnWorker allows 90 s for ts-node to boot the worker on a busy machine
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
      // At least one process swept (SKIP LOCKED hands them disjoint batches; whether both got a
      // batch depends on which booted first).
      // The log line comes at the end of the sweep (after its settlement pass), a moment after
      // the last batch committed: wait for it rather than read the logs at once.
      const sweeping = () => workers.filter((w) => /sweep: escalated [1-9]/.test(w.log())).length;
      expect(
        await waitFor(
          async () => sweeping(),
          (n) => n >= 1,
          30_000,
        ),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      const codes = await Promise.all(workers.map((w) => w.stop()));
      // Graceful shutdown on SIGTERM: running jobs finished, connections closed, then exit.
      expect(codes.map((c) => c.graceful)).toEqual([true, true]);
    }
  }, 150_000);
});
