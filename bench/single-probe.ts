/*
 * A/B probe of single signed intake routes: payments and refunds side by side in one API
 * process, rounds in rotating order, each run reporting the CPU the API process AND the
 * PostgreSQL backends of the bench database spent per completed request (from /proc), besides
 * req/s. On a shared machine req/s swings with whatever else runs; CPU per request barely does.
 * With --during-batch, also the latency of single refunds while a refund batch runs (the gate).
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/single-probe.ts \
 *     [--rounds 3] [--seconds 5] [--connections 32] [--floor] [--no-build] [--semi MB] \
 *     [--cases generic-receipt,generic-refund,alipay-refund,alipay-receipt] [--during-batch]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import { signHmac } from '../libs/receipts/src/verifiers/test-signers';
import { alipayPool as alipayReceiptPool, genericPool as genericReceiptPool } from './intake';
import { alipayRefundPool, genericRefundPool, seedReceipts } from './refunds';
import { ensureBuilt } from './lib/apps';
import { SMALL, log, sleep } from './lib/cli';
import { truncate } from './lib/db';
import { PreparedRequest, cpuMs, runLoad } from './lib/load';
import { HMAC_SECRET, createMerchantWithStore, openStage } from './lib/setup';

const CASES = ['generic-receipt', 'generic-refund', 'alipay-refund', 'alipay-receipt'] as const;
type Case = (typeof CASES)[number];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** User + system CPU (ms) of every backend connected to the bench database, by pid. */
async function backendCpu(pool: Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = cpuMs(pid);
    if (ms !== null) out.set(pid, ms);
  }
  return out;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

function procCpu(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(x[11]) + Number(x[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Each backend's CPU over the run, with what it is (the API's pool, the floor's, autovacuum…). */
async function byBackend(
  pool: Pool,
  before: Map<number, number>,
  after: Map<number, number>,
): Promise<void> {
  const { rows } = await pool.query<{ pid: number; what: string }>(
    `SELECT pid, backend_type || ' ' || coalesce(application_name, '') || ' ' || state || ' '
            || left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS what
       FROM pg_stat_activity WHERE datname = current_database()`,
  );
  const what = new Map(rows.map((r) => [r.pid, r.what]));
  const deltas = [...after].map(([pid, ms]) => [pid, ms - (before.get(pid) ?? 0)] as const);
  for (const [pid, ms] of deltas.sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(
      `    ${String(ms).padStart(6)} ms  ${pid}${before.has(pid) ? '' : ' (new)'}  ${what.get(pid) ?? '?'}`,
    );
  }
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '3'));
  const seconds = Number(arg('seconds', '5'));
  const connections = Number(arg('connections', '32'));
  const cases = arg('cases', CASES.join(',')).split(',') as Case[];
  const withFloor = flag('floor');
  ensureBuilt(flag('no-build'));
  const stage = await openStage('probe', {
    sizes: SMALL,
    scenarios: [],
    cpuProf: flag('cpu-prof'),
    keepDb: false,
    noBuild: true,
    maxSemiSpaceMb: Number(arg('semi', '0')) || undefined,
  });
  try {
    const floor = withFloor ? await stage.startFloor() : null;
    const api = await stage.startApi();
    const store = await createMerchantWithStore(api.url, '330106', ['alipay', 'sunmi-pos']);
    const tag = randomBytes(4).toString('hex');
    const n = Number(arg('pool', '8000'));
    await seedReceipts(stage, store, tag, n);
    log(`signing the requests…`);
    // Refunds: one pool, emptied before each run. Receipts: a warm-up and a measured pool per
    // run (new receipts each time), signed before anything is measured.
    const pools = new Map<string, PreparedRequest[][]>();
    for (const c of cases) {
      if (c === 'generic-refund') pools.set(c, [genericRefundPool(n, tag)]);
      else if (c === 'alipay-refund') {
        pools.set(c, [alipayRefundPool(n, tag, store, stage.alipay.privateKeyPem)]);
      } else {
        const runs = rounds * (withFloor ? 2 : 1) * 2;
        const make = (size: number) =>
          c === 'generic-receipt'
            ? genericReceiptPool(size, store)
            : alipayReceiptPool(size, store, stage.alipay.privateKeyPem);
        pools.set(
          c,
          Array.from({ length: runs }, (_, i) => make(i % 2 === 0 ? Math.min(n, 1500) : n)),
        );
      }
    }
    const pool = (c: Case): PreparedRequest[] => {
      const list = pools.get(c)!;
      return list.length === 1 ? list[0] : list.shift()!;
    };
    const results: Record<string, { rps: number[]; api: number[]; pg: number[]; p99: number[] }> =
      {};
    for (let round = 0; round < rounds; round++) {
      // Rotate the order: no case always runs first after a pause.
      const order = cases.map((_, i) => cases[(i + round) % cases.length]);
      for (const c of order) {
        for (const target of floor ? [api, floor] : [api]) {
          const who = target === api ? 'hejie' : 'floor';
          const isRefund = c.endsWith('refund');
          // Warm-up: refunds on the same pool (emptied after), receipts on a pool of their own.
          const warm = pool(c);
          if (isRefund) await truncate(stage.db.pool, ['refunds']);
          await runLoad({ url: target.url, connections, seconds: 1, pool: warm });
          await sleep(500);
          if (isRefund) await truncate(stage.db.pool, ['refunds']);
          const measured = pool(c);
          const pgBefore = await backendCpu(stage.db.pool);
          const apiBefore = procCpu(target.pid);
          const r = await runLoad({ url: target.url, connections, seconds, pool: measured });
          const apiMs = (procCpu(target.pid) - apiBefore) / r.requests;
          const pgAfter = await backendCpu(stage.db.pool);
          const pgMs = cpuDelta(pgBefore, pgAfter) / r.requests;
          if (flag('by-backend')) await byBackend(stage.db.pool, pgBefore, pgAfter);
          const key = `${c} ${who}`;
          results[key] ??= { rps: [], api: [], pg: [], p99: [] };
          results[key].rps.push(r.rps);
          results[key].api.push(apiMs);
          results[key].pg.push(pgMs);
          results[key].p99.push(r.p99);
          log(
            `round ${round + 1} ${key} @${connections}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, errors ${r.errors} ${JSON.stringify(r.statusCodes)}; process CPU ${apiMs.toFixed(2)} ms/req, PG backends ${pgMs.toFixed(2)} ms/req`,
          );
        }
      }
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(
      `\n| case @${connections} | req/s (mean) | process CPU ms/req | PG backends CPU ms/req | p99 ms |\n|---|---:|---:|---:|---:|`,
    );
    for (const [k, v] of Object.entries(results)) {
      console.log(
        `| ${k} | ${mean(v.rps).toFixed(0)} (${v.rps.map((x) => x.toFixed(0)).join(' / ')}) | ${mean(v.api).toFixed(2)} (${v.api.map((x) => x.toFixed(2)).join(' / ')}) | ${mean(v.pg).toFixed(2)} (${v.pg.map((x) => x.toFixed(2)).join(' / ')}) | ${mean(v.p99).toFixed(0)} |`,
      );
    }
    console.log(`\nAPI peak RSS (VmHWM): ${api.peakRssMb() ?? '?'} MB`);
    if (flag('during-batch')) await duringBatch(stage, api, store, tag, n, connections);
  } finally {
    await stage.close();
  }
}

/**
 * Latency of single generic refunds alone, then while one POST /v1/refunds/batch of `lines`
 * refunds (other trades) runs.
 */
async function duringBatch(
  stage: Awaited<ReturnType<typeof openStage>>,
  api: { url: string },
  store: Awaited<ReturnType<typeof createMerchantWithStore>>,
  tag: string,
  n: number,
  connections: number,
): Promise<void> {
  const lines = Number(arg('batch-lines', '50000'));
  const btag = `b${randomBytes(4).toString('hex')}`;
  await seedReceipts(stage, store, btag, lines);
  const at = new Date().toISOString();
  let body = '';
  for (let i = 0; i < lines; i++) {
    body += `${JSON.stringify({ provider: 'sunmi-pos', tradeNo: `${btag}-${i}`, refundNo: `RF-${btag}-${i}`, amountMinor: 1000, currency: 'CNY', refundedAt: at })}\n`;
  }
  const sig = signHmac(body, HMAC_SECRET);
  const singles = genericRefundPool(n, tag);
  const c = Math.min(connections, 8);
  await truncate(stage.db.pool, ['refunds']);
  const alone = await runLoad({ url: api.url, connections: c, seconds: 3, pool: singles });
  log(
    `single refunds alone @${c}: ${alone.rps.toFixed(0)} req/s, p50 ${alone.p50} ms, p99 ${alone.p99} ms`,
  );
  await truncate(stage.db.pool, ['refunds']);
  const t0 = Date.now();
  let batchMs = 0;
  const batch = fetch(`${api.url}/v1/refunds/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'x-hejie-signature': sig },
    body,
  }).then(async (res) => {
    batchMs = Date.now() - t0;
    log(`batch of ${lines}: ${res.status} in ${batchMs} ms ${(await res.text()).slice(0, 80)}`);
  });
  await sleep(200);
  const during = await runLoad({ url: api.url, connections: c, seconds: 3, pool: singles });
  await batch;
  log(
    `single refunds during the batch @${c}: ${during.rps.toFixed(0)} req/s, p50 ${during.p50} ms, p99 ${during.p99} ms, max-ish; batch took ${batchMs} ms`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
