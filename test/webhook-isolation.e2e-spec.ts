import { readFileSync } from 'node:fs';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createMerchant, createStore } from './factories/directory.factory';
import { createReceipt } from './factories/complaint.factory';
import { spawnWorker, waitFor } from './helpers/worker-process';
import { HostileReceiver, startHostileReceiver } from './helpers/hostile-receivers';

/** Peak resident memory of a process so far (kB), from /proc. */
function peakRssKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function openTicket(t: TestApp, webhookUrl?: string) {
  const merchant = await createMerchant(t, webhookUrl ? { webhookUrl } : {});
  const store = await createStore(t, merchant.id);
  const accountId = store.paymentAccounts.find((a) => a.provider === 'sunmi-pos')!.accountId;
  const receipt = await createReceipt(t, { accountId });
  const res = await t.http
    .post('/v1/complaints')
    .set(bearer(t.token({ role: 'consumer', sub: receipt.payerId })))
    .send({
      receiptId: receipt.id,
      category: 'quality',
      demand: { type: 'repair' },
      description: 'The kettle stopped heating after a week.',
    })
    .expect(201);
  return { merchantId: merchant.id, ticketId: res.body.id as string };
}

/**
 * A merchant must not be able to hurt the platform: a receiver answering a gzip bomb and one that
 * stalls its body are delivered to by a real worker process with the production heap limit
 * (192 MB); the worker survives, every attempt is counted, and the deadline sweep of the same
 * worker still escalates a due ticket meanwhile.
 */
describe('webhook deliveries cannot take the worker down', () => {
  let t: TestApp;
  let bomb: HostileReceiver;
  let stall: HostileReceiver;
  let silent: HostileReceiver;
  let worker: Awaited<ReturnType<typeof spawnWorker>>;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    [bomb, stall, silent] = await Promise.all([
      startHostileReceiver('bomb'),
      startHostileReceiver('stall'),
      startHostileReceiver('silent'),
    ]);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await Promise.all([bomb?.close(), stall?.close(), silent?.close()]);
    await t?.close();
  }, 60_000);

  it('a gzip bomb, a stalled body and a silent receiver: worker alive, attempts counted, sweep escalates', async () => {
    expect(bomb.bombBytes).toBeLessThan(400 * 1024); // ~330 MB once inflated
    const hooked = {
      bomb: await openTicket(t, bomb.url),
      stall: await openTicket(t, stall.url),
      silent: await openTicket(t, silent.url),
    };
    const due = await openTicket(t);
    // Due before the worker starts: its sweep escalates it (or the job its drain schedules).
    await t.db.query(
      `UPDATE complaints SET merchant_respond_by = now() - interval '1 minute' WHERE id = $1`,
      [due.ticketId],
    );

    worker = await spawnWorker({
      NODE_OPTIONS: '--max-old-space-size=192',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT: '4s',
      WEBHOOK_BACKOFF: '200ms',
      WEBHOOK_MAX_ATTEMPTS: '3',
      SWEEP_INTERVAL: '1s',
    });
    const pid = worker.proc.pid!;
    const peakBefore = peakRssKb(pid);

    const deliveries = () =>
      t.db.query(
        `SELECT complaint_id, state, attempts, last_error FROM webhook_deliveries
          WHERE complaint_id = ANY($1::uuid[])`,
        [Object.values(hooked).map((h) => h.ticketId)],
      ) as Promise<{ complaint_id: string; state: string; attempts: number; last_error: string }[]>;
    const rows = await waitFor(
      deliveries,
      (rs) => rs.length === 3 && rs.every((r) => r.state === 'dead'),
      45_000,
    );
    // Alive, never restarted, and the bomb never reached its memory.
    expect(worker.log()).not.toMatch(/heap out of memory|FATAL ERROR/);
    expect(worker.proc.exitCode).toBeNull();
    expect(worker.proc.signalCode).toBeNull();
    expect(peakRssKb(pid) - peakBefore).toBeLessThan(64 * 1024);

    const byTicket = new Map(rows.map((r) => [r.complaint_id, r]));
    expect(byTicket.get(hooked.bomb.ticketId)).toMatchObject({
      state: 'dead',
      attempts: 3,
      last_error: 'HTTP 500',
    });
    for (const h of [hooked.stall, hooked.silent]) {
      expect(byTicket.get(h.ticketId)).toMatchObject({
        state: 'dead',
        attempts: 3,
        last_error: 'timeout',
      });
    }
    // Each receiver was called exactly as often as counted, never with a compressed answer asked for.
    for (const r of [bomb, stall, silent]) {
      expect(r.requests).toHaveLength(3);
      for (const q of r.requests) expect(q.headers['accept-encoding']).toBe('identity');
    }

    const status = await waitFor(
      async () =>
        (await t.db.query('SELECT status FROM complaints WHERE id = $1', [due.ticketId]))[0]
          .status as string,
      (s) => s === 'escalated',
      15_000,
    );
    expect(status).toBe('escalated');

    expect(worker.proc.exitCode).toBeNull();
    expect(peakRssKb(pid) - peakBefore).toBeLessThan(64 * 1024);
  }, 120_000);
});

/**
 * WORKER_QUEUES: deliveries in a process of their own, apart from the deadline sweep. Real time
 * on purpose, like the suite above: what is tested is the processes' wiring (which queues each
 * one runs, the heap limit, real timeouts), so the deadlines are set in the past in PostgreSQL
 * rather than waited for. Deadline rules themselves are tested on a fake clock
 * (test/worker.e2e-spec.ts, test/webhooks.e2e-spec.ts).
 */
describe('WORKER_QUEUES: a delivery process and a sweep process', () => {
  let t: TestApp;
  let ok: HostileReceiver;
  const workers: Awaited<ReturnType<typeof spawnWorker>>[] = [];

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    ok = await startHostileReceiver('ok');
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await ok?.close();
    await t?.close();
  }, 60_000);

  it('each process runs only its queues; together they deliver and escalate', async () => {
    const hooked = await openTicket(t, ok.url);
    const due = await openTicket(t);
    await t.db.query(
      `UPDATE complaints SET merchant_respond_by = now() - interval '1 minute' WHERE id = $1`,
      [due.ticketId],
    );
    const common = { WEBHOOK_ALLOW_PRIVATE: 'true', SWEEP_INTERVAL: '1s' };
    const sweeper = await spawnWorker({ ...common, WORKER_QUEUES: 'deadlines,stats,maintenance' });
    workers.push(sweeper);
    const status = () =>
      t.db
        .query('SELECT status FROM complaints WHERE id = $1', [due.ticketId])
        .then((r: { status: string }[]) => r[0].status);
    expect(await waitFor(status, (s) => s === 'escalated', 15_000)).toBe('escalated');
    // The sweep process never calls a receiver: the pending delivery was never claimed (an
    // attempt is counted when it is claimed), read from the database instead of waiting.
    const [pending] = await t.db.query(
      'SELECT state, attempts FROM webhook_deliveries WHERE complaint_id = $1',
      [hooked.ticketId],
    );
    expect(pending).toEqual({ state: 'pending', attempts: 0 });
    expect(ok.requests).toHaveLength(0);
    expect(sweeper.log()).toContain('queue webhooks is not run by this process');

    const deliverer = await spawnWorker({ ...common, WORKER_QUEUES: 'webhooks' });
    workers.push(deliverer);
    const state = () =>
      t.db
        .query('SELECT state FROM webhook_deliveries WHERE complaint_id = $1', [hooked.ticketId])
        .then((r: { state: string }[]) => r[0].state);
    expect(await waitFor(state, (s) => s === 'done', 15_000)).toBe('done');
    expect(ok.requests.length).toBeGreaterThanOrEqual(1);
    expect(deliverer.log()).toContain('queue deadlines is not run by this process');
  }, 120_000);

  it('an unknown queue name stops the worker at boot', async () => {
    await expect(spawnWorker({ WORKER_QUEUES: 'webhooks,webhoks' })).rejects.toThrow(
      /WORKER_QUEUES names unknown queue\(s\) webhoks/,
    );
  }, 60_000);
});
