/**
 * The topology of DESIGN.md ("Scale") on one machine (scripts/topology.sh): a PostgreSQL primary
 * with a streaming replica, a Redis Cluster of three masters and three replicas, and two API
 * processes behind HAProxy, with two workers. `npm run test:topology`.
 */
import {
  call,
  complaintBody,
  masterFor,
  metric,
  pgCtl,
  postReceipt,
  Proc,
  seedDirectory,
  spawnApi,
  spawnWorker,
  token,
  Topology,
  topologyDown,
  topologyUp,
  until,
} from './topology';

jest.setTimeout(300_000);

describe('topology: replica, Redis Cluster, two APIs behind HAProxy', () => {
  let t: Topology;
  const procs: Proc[] = [];
  let api1: Proc;
  let api2: Proc;
  let directory: { merchantId: string; account: string };
  const apiPorts = () => [t.env.API1_PORT, t.env.API2_PORT];

  beforeAll(async () => {
    t = await topologyUp();
    // Short merchant deadline so the workers have something to escalate while a master dies.
    const apiEnv = { MERCHANT_RESPONSE_SLA: '20s' };
    [api1, api2] = await Promise.all([
      spawnApi(t, t.env.API1_PORT, apiEnv),
      spawnApi(t, t.env.API2_PORT, apiEnv),
    ]);
    procs.push(api1, api2);
    const workers = await Promise.all([
      spawnWorker(t, { SWEEP_INTERVAL: '1s' }),
      spawnWorker(t, { SWEEP_INTERVAL: '1s' }),
    ]);
    procs.push(...workers);
    directory = await seedDirectory(t.lb);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await topologyDown(t);
  });

  it('lists and statistics read from the replica; with the replica stopped they fall back to the primary', async () => {
    const payer = `topo-${Date.now()}`;
    const consumer = token({ role: 'consumer', sub: `sunmi-pos:${payer}` });
    const merchant = token({ role: 'merchant', merchantId: directory.merchantId });
    const receiptId = await postReceipt(t.lb, directory.account, payer);
    const created = await call(t.lb, 'POST', '/v1/complaints', {
      token: consumer,
      body: complaintBody(receiptId),
    });
    expect(created.status).toBe(201);

    // The replica catches up within the lag limit, then answers the merchant's inbox.
    const replicaBefore = await metric(apiPorts(), 'hejie_replica_reads_total', 'target="replica"');
    const inbox = await until(
      () => call(t.lb, 'GET', '/v1/complaints', { token: merchant }),
      (r) => r.status === 200 && r.body.items.some((i: { id: string }) => i.id === created.body.id),
      10_000,
    );
    expect(inbox.body.items.map((i: { id: string }) => i.id)).toContain(created.body.id);
    const stats = await call(
      t.lb,
      'GET',
      `/v1/stats/self-resolution?merchantId=${directory.merchantId}`,
      {
        token: merchant,
      },
    );
    expect(stats.status).toBe(200);
    expect(
      await metric(apiPorts(), 'hejie_replica_reads_total', 'target="replica"'),
    ).toBeGreaterThan(replicaBefore);

    // Replica down mid-run: every read is still answered, by the primary, and writes go on.
    pgCtl(t, 'pg2', 'stop');
    const primaryBefore = await metric(apiPorts(), 'hejie_replica_reads_total', 'target="primary"');
    const second = await call(t.lb, 'POST', '/v1/complaints', {
      token: consumer,
      body: complaintBody(await postReceipt(t.lb, directory.account, payer)),
    });
    expect(second.status).toBe(201);
    for (let i = 0; i < 6; i++) {
      const r = await call(t.lb, 'GET', '/v1/complaints', { token: consumer });
      expect(r.status).toBe(200);
      expect(r.body.items.map((x: { id: string }) => x.id)).toEqual(
        expect.arrayContaining([created.body.id, second.body.id]),
      );
    }
    expect(
      await metric(apiPorts(), 'hejie_replica_reads_total', 'target="primary"'),
    ).toBeGreaterThan(primaryBefore);

    // Back up: reads return to the replica.
    pgCtl(t, 'pg2', 'start');
    const replicaAgain = await metric(apiPorts(), 'hejie_replica_reads_total', 'target="replica"');
    const resumed = await until(
      async () => {
        await call(t.lb, 'GET', '/v1/complaints', { token: consumer });
        return metric(apiPorts(), 'hejie_replica_reads_total', 'target="replica"');
      },
      (n) => n > replicaAgain,
      20_000,
    );
    expect(resumed).toBeGreaterThan(replicaAgain);
  });

  it('two workers on Redis Cluster escalate each due ticket exactly once while the queue master fails over', async () => {
    const N = 40;
    const payer = `topo-batch-${Date.now()}`;
    const consumer = token({ role: 'consumer', sub: `sunmi-pos:${payer}` });
    const ids: string[] = [];
    let killed: number | null = null;
    for (let i = 0; i < N; i++) {
      // Mid-run: kill the master that holds the queues' hash slot (where the API is adding
      // deadline jobs); its replica takes over, and the rest of the tickets keep coming.
      if (i === N / 2) {
        killed = masterFor(t, '{hejie_topology}').pid;
        process.kill(killed, 'SIGKILL');
      }
      const receiptId = await postReceipt(t.lb, directory.account, payer);
      const r = await call(t.lb, 'POST', '/v1/complaints', {
        token: consumer,
        body: complaintBody(receiptId),
      });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    expect(killed).not.toBeNull();
    // A new master serves the slot (the killed one is marked failed): the failover comes after
    // the cluster's node timeout (2 s), which the tickets above may take less than.
    const master = await until(
      async () => {
        try {
          return masterFor(t, '{hejie_topology}').pid;
        } catch {
          return null; // no master for the slot during the failover
        }
      },
      (pid) => pid !== null && pid !== killed,
      20_000,
    );
    expect(master).not.toBeNull();
    expect(master).not.toBe(killed);

    const escalated = await until(
      async () =>
        Number(
          (
            await t.sql(
              `SELECT count(*)::int AS n FROM complaints WHERE id = ANY($1::uuid[]) AND status = 'escalated'`,
              [ids],
            )
          )[0].n,
        ),
      (n) => n === N,
      120_000,
    );
    expect(escalated).toBe(N);
    const events = await t.sql(
      `SELECT complaint_id, count(*)::int AS n FROM complaint_events
        WHERE complaint_id = ANY($1::uuid[]) AND type = 'escalated' GROUP BY complaint_id`,
      [ids],
    );
    expect(events).toHaveLength(N);
    expect(events.every((e) => e.n === 1)).toBe(true);
  });

  it("a consumer's idempotent retry after one API process is killed gets its ticket exactly once", async () => {
    const payer = `topo-retry-${Date.now()}`;
    const consumer = token({ role: 'consumer', sub: `sunmi-pos:${payer}` });
    const receiptId = await postReceipt(t.lb, directory.account, payer);
    const key = `retry-${Date.now()}`;
    const first = await call(t.lb, 'POST', '/v1/complaints', {
      token: consumer,
      body: complaintBody(receiptId),
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    await api1.kill('SIGKILL');
    const retries = await Promise.all(
      [0, 1, 2, 3].map(() =>
        call(t.lb, 'POST', '/v1/complaints', {
          token: consumer,
          body: complaintBody(receiptId),
          headers: { 'idempotency-key': key },
        }),
      ),
    );
    for (const r of retries) {
      expect(r.status).toBe(201);
      expect(r.body.id).toBe(first.body.id);
    }
    const [{ n }] = await t.sql('SELECT count(*)::int AS n FROM complaints WHERE receipt_id = $1', [
      receiptId,
    ]);
    expect(n).toBe(1);
  });
});
