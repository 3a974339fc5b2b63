/*
 * Scenario 2 — "initiate resolution": POST /v1/complaints over distinct receipts (each its own
 * consumer and token) at each connection count; floor: the bare node:http + pg server inserting
 * the same complaints row. The worker runs alongside (it drains the outbox into the rollups), and
 * the peak RSS of both processes is recorded for scenario 5.
 * Run alone: node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/complaints.ts [--full]
 */
import { randomBytes } from 'node:crypto';
import { Options, log, sleep } from './lib/cli';
import { truncate } from './lib/db';
import { LoadResult, PreparedRequest, cpuMs, runLoad } from './lib/load';
import { ScenarioReport, f0, f1, newReport, pct } from './lib/report';
import { Stage, createMerchantWithStore, createOffice, openStage, token } from './lib/setup';
import { runStandalone } from './lib/standalone';

const TICKET_TABLES = ['complaint_events', 'complaint_offers', 'outbox', 'complaints'];
const METRICS_TOKEN = randomBytes(16).toString('hex');

/** What the API's own Prometheus default metrics say about one run: GC and event-loop delay. */
export interface TailProbe {
  /** Seconds of GC pause during the run, by kind (minor = scavenge, major = mark-compact…). */
  gcSeconds: Record<string, number>;
  gcCount: Record<string, number>;
  /** Event-loop delay over the run (perf_hooks histogram, reset at each scrape), ms. */
  loopP50: number;
  loopP99: number;
  loopMax: number;
  /** CPU ms the worker spent during the run (it drains the outbox alongside). */
  workerCpuMs?: number;
}

type Scrape = Map<string, number>;

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const out: Scrape = new Map();
  if (!res.ok) return out;
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

function tailOf(before: Scrape, after: Scrape): TailProbe {
  const gcSeconds: Record<string, number> = {};
  const gcCount: Record<string, number> = {};
  for (const [k, v] of after) {
    const m = /^hejie_nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\}$/.exec(k);
    if (!m) continue;
    const d = v - (before.get(k) ?? 0);
    if (m[1] === 'sum') gcSeconds[m[2]] = d;
    else gcCount[m[2]] = d;
  }
  const ms = (k: string) => (after.get(`hejie_nodejs_eventloop_lag_${k}_seconds`) ?? NaN) * 1000;
  return { gcSeconds, gcCount, loopP50: ms('p50'), loopP99: ms('p99'), loopMax: ms('max') };
}

async function measure(
  stage: Stage,
  url: string,
  pool: PreparedRequest[],
  connections: number,
  pid?: number,
  workerPid?: number,
): Promise<LoadResult & { stored: number; tail?: TailProbe }> {
  const s = stage.opts.sizes;
  await truncate(stage.db.pool, TICKET_TABLES);
  await runLoad({ url, connections, seconds: s.warmupSeconds, pool });
  // Requests autocannon abandoned at its stop may still commit: let them, then empty the table.
  await sleep(1000);
  await truncate(stage.db.pool, TICKET_TABLES);
  // Hejie only (the worker's pid given): the API's metrics just before and after the run.
  const before = workerPid ? await scrape(url) : undefined;
  const w0 = workerPid ? cpuMs(workerPid) : null;
  const r = await runLoad({ url, connections, seconds: s.loadSeconds, pool, pid });
  const after = before ? await scrape(url) : undefined;
  const w1 = workerPid ? cpuMs(workerPid) : null;
  const [{ n }] = (
    await stage.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM complaints')
  ).rows;
  const tail = before && after ? tailOf(before, after) : undefined;
  if (tail && w0 !== null && w1 !== null) tail.workerCpuMs = w1 - w0;
  return { ...r, stored: n, tail };
}

/** The server process's CPU time per request (user + system), when /proc told it. */
const cpu = (r: LoadResult) =>
  r.cpuMsPerRequest === undefined ? '' : r.cpuMsPerRequest.toFixed(2);

export async function complaints(opts: Options): Promise<ScenarioReport> {
  const s = opts.sizes;
  const report = newReport('complaints', '2. Initiate resolution (POST /v1/complaints)');
  const stage = await openStage('complaints', opts);
  try {
    const floor = await stage.startFloor();
    const api = await stage.startApi({ METRICS_TOKEN });
    const worker = await stage.startWorker(1);
    const store = await createMerchantWithStore(api.url, '330106', ['sunmi-pos']);
    await createOffice(api.url, ['3301']);

    log(`complaints: ${f0(s.complaintPool)} receipts, one consumer and token each…`);
    const tag = randomBytes(4).toString('hex');
    const { rows } = await stage.db.pool.query<{ id: string; payer_id: string }>(
      `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                             amount_minor, currency, paid_at, subject, items, fingerprint, raw_notification,
                             raw_content_type)
       SELECT 'sunmi-pos', $1 || '-' || g, 'sunmi-pos:c' || $1 || g, $2, $3, $4, $5, 3500 + g % 100, 'CNY',
              now() - interval '2 hours', '西湖龙井 礼盒',
              '[{"name":"西湖龙井 250g","quantity":1,"unitPriceMinor":3500}]'::jsonb,
              md5($1 || g) || md5(g || $1), '{}', 'application/json'
         FROM generate_series(1, $6::int) g
       RETURNING id, payer_id`,
      [
        tag,
        store.accounts['sunmi-pos'],
        store.merchantId,
        store.storeId,
        store.regionCode,
        s.complaintPool,
      ],
    );
    const pool: PreparedRequest[] = rows.map((r, i) => ({
      method: 'POST',
      path: '/v1/complaints',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token({ role: 'consumer', sub: r.payer_id })}`,
        'idempotency-key': `tap-${tag}-${i}`,
      },
      body: JSON.stringify({
        receiptId: r.id,
        category: 'quality',
        demand: { type: 'refund', amountMinor: 3500 },
        description: 'The tea tasted stale and the tin was dented on arrival.',
        contactPhone: '13812345678',
      }),
    }));

    const table: (string | number)[][] = [];
    const raw: Record<string, unknown> = {};
    for (const c of s.connections) {
      log(`complaints @${c}: Hejie…`);
      const h = await measure(stage, api.url, pool, c, api.pid, worker.pid);
      if (h.tail) {
        const t = h.tail;
        const gc = Object.keys(t.gcSeconds)
          .map((k) => `${k} ${f0(t.gcCount[k] ?? 0)}× ${f0(t.gcSeconds[k] * 1000)} ms`)
          .join(', ');
        const perReq = (ms?: number) =>
          ms === undefined ? '?' : (ms / Math.max(1, h.requests)).toFixed(2);
        const gcMs = Object.values(t.gcSeconds).reduce((a, b) => a + b, 0) * 1000;
        const note = `@${c} Hejie: GC ${gc || 'n/a'} (${perReq(gcMs)} ms/req); event-loop delay p50 ${f1(t.loopP50)} / p99 ${f1(t.loopP99)} / max ${f1(t.loopMax)} ms; worker CPU ${perReq(t.workerCpuMs)} ms/req.`;
        log(`complaints ${note}`);
        report.notes.push(note);
      }
      log(`complaints @${c}: floor…`);
      const f = await measure(stage, floor.url, pool, c, floor.pid);
      let ref: (LoadResult & { stored: number }) | undefined;
      if (c === s.connections[0]) {
        log(`complaints @${c}: reference (same writes, one statement)…`);
        const refPool = pool.map((r) => ({ ...r, path: '/v1/complaints/same-writes' }));
        ref = await measure(stage, floor.url, refPool, c, floor.pid);
      }
      raw[`@${c}`] = { hejie: h, floor: f, reference: ref };
      for (const [who, r] of [
        ['Hejie', h],
        ['floor', f],
      ] as const) {
        table.push([
          `${c} conn — ${who}`,
          f0(r.rps),
          f1(r.p50),
          f1(r.p99),
          f0(r.errors),
          f0(r.stored),
          cpu(r),
          who === 'Hejie' ? pct(h.rps / f.rps) : '100%',
          r.poolEnded ? 'pool used up' : '',
        ]);
      }
      if (ref) {
        table.push([
          `${c} conn — reference: bare, Hejie's three writes in one statement`,
          f0(ref.rps),
          f1(ref.p50),
          f1(ref.p99),
          f0(ref.errors),
          f0(ref.stored),
          cpu(ref),
          pct(ref.rps / f.rps),
          '',
        ]);
      }
      if (c === 32) {
        report.checks.push(
          {
            target: 'complaints @32 ≥ 50% of floor req/s',
            measured: `${pct(h.rps / f.rps)} (${f0(h.rps)} vs ${f0(f.rps)})`,
            pass: h.rps / f.rps >= 0.5,
          },
          { target: 'complaints @32 p99 < 50 ms', measured: `${f1(h.p99)} ms`, pass: h.p99 < 50 },
        );
      }
      const created = h.statusCodes['201'] ?? 0;
      report.checks.push({
        target: `complaints @${c}: 0 errors`,
        // Requests still in flight when autocannon stops are not counted but may commit.
        measured: `${h.errors} errors; ${f0(created)} × 201, ${f0(h.stored)} tickets stored`,
        pass: h.errors === 0 && h.stored >= created && h.stored <= created + c,
      });
    }
    report.tables.push({
      title: `POST /v1/complaints over distinct receipts (autocannon, ${s.loadSeconds} s a run after ${s.warmupSeconds} s warm-up)`,
      columns: [
        'case',
        'req/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'tickets',
        'server CPU ms/req',
        'ratio',
        '',
      ],
      rows: table,
    });
    report.raw.runs = raw;
    report.memory.push(
      { scenario: 'complaints', process: 'api', peakRssMb: api.peakRssMb() },
      { scenario: 'complaints', process: 'worker', peakRssMb: worker.peakRssMb() },
    );
    report.notes.push(
      "The reference row is not the floor: the bare server writing what Hejie's transaction writes (ticket, 'created' event, outbox row) in one statement — what Hejie's remaining round trips per request (one EVALSHA for both rate limits, one read, one write, the deadline jobs' addBulk) cost compared with one.",
      'Each request: a distinct receipt of a distinct consumer (own JWT), an Idempotency-Key, a refund demand and a contact phone (encrypted). Hejie writes the ticket, its first trail event, the outbox row and any webhook delivery in one statement and schedules two deadline jobs in Redis; the floor verifies the JWT, encrypts the phone and does one INSERT … SELECT of the same complaints row.',
    );
    return report;
  } finally {
    await stage.close();
  }
}

if (require.main === module) runStandalone('complaints', complaints);
