/*
 * Scenario 5 — refund intake (issue 13), next to payment intake and against the same kind of
 * floor: signed refund notifications over HTTP (generic HMAC on POST /v1/refunds, Alipay RSA2
 * with refund_fee on POST /v1/receipts/alipay), each refunding a stored receipt, Hejie vs a bare
 * node:http + pg server that verifies the same signature and inserts the same refunds row.
 * Hejie does more per refund by design: the advisory lock of the trade, the running total and
 * the cap at the amount paid, and the ticket lookup (onRefundRecorded).
 * Batches, in the same run: POST /v1/receipts/batch (bench/intake.ts's batch, vs COPY) and
 * POST /v1/refunds/batch (NDJSON refunds of stored receipts, sequential requests) vs COPY of the
 * very refunds rows Hejie stored (same receipt, fingerprint, raw line) from bare pg.
 * Run alone: node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/refunds.ts [--full]
 * [--refund-batch-only] (the refund batch and its COPY floor alone: no single refunds, no receipt batch).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { signAlipayNotification, signHmac } from '../libs/receipts/src/verifiers/test-signers';
import { refundFingerprint } from '../libs/receipts/src/refunds/refunds.service';
import { parseGenericRefund } from '../libs/receipts/src/refunds/refund-notifications';
import { batch as receiptBatch } from './intake';
import { copyFrom, copyValue } from './lib/pg-copy';
import { Options, log, sleep } from './lib/cli';
import { truncate } from './lib/db';
import { LoadResult, PreparedRequest, runLoad } from './lib/load';
import { ScenarioReport, f0, f1, newReport, pct } from './lib/report';
import {
  BenchStore,
  HMAC_SECRET,
  Stage,
  createMerchantWithStore,
  heapNote,
  openStage,
} from './lib/setup';
import { runStandalone } from './lib/standalone';

const SHANGHAI = (d: Date) =>
  new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

/** n paid receipts per provider, straight into the table (the refunds' subject, not measured). */
export async function seedReceipts(stage: Stage, store: BenchStore, tag: string, n: number) {
  for (const [provider, account] of [
    ['sunmi-pos', store.accounts['sunmi-pos']],
    ['alipay', store.accounts.alipay],
  ]) {
    await stage.db.pool.query(
      `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                             amount_minor, currency, paid_at, subject, fingerprint, raw_notification, raw_content_type)
       SELECT $1, $2 || i, $1 || ':p' || i, $3, $4, $5, $6, 10000, 'CNY', now() - interval '1 hour',
              'bench', repeat('0', 64), '{}', 'application/json'
         FROM generate_series(0, $7 - 1) AS i`,
      [provider, `${tag}-`, account, store.merchantId, store.storeId, store.regionCode, n],
    );
  }
}

export function genericRefundPool(n: number, tag: string): PreparedRequest[] {
  const out: PreparedRequest[] = [];
  const at = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({
      provider: 'sunmi-pos',
      tradeNo: `${tag}-${i}`,
      refundNo: `RF-${tag}-${i}`,
      amountMinor: 1000,
      currency: 'CNY',
      refundedAt: at,
    });
    out.push({
      method: 'POST',
      path: '/v1/refunds',
      headers: {
        'content-type': 'application/json',
        'x-hejie-signature': signHmac(body, HMAC_SECRET),
      },
      body,
    });
  }
  return out;
}

export function alipayRefundPool(
  n: number,
  tag: string,
  store: BenchStore,
  key: string,
): PreparedRequest[] {
  const out: PreparedRequest[] = [];
  const now = SHANGHAI(new Date());
  for (let i = 0; i < n; i++) {
    const body = signAlipayNotification(
      {
        notify_time: now,
        notify_type: 'trade_status_sync',
        notify_id: `${tag}r${i}`,
        app_id: '2021000000000000',
        charset: 'utf-8',
        version: '1.0',
        trade_no: `${tag}-${i}`,
        out_trade_no: `ORDER-${tag}-${i}`,
        out_biz_no: `RF-${tag}-${i}`,
        buyer_id: `2088${String(100000000000 + i)}`,
        seller_id: store.accounts.alipay,
        total_amount: '100.00',
        refund_fee: '10.00',
        gmt_payment: now,
        gmt_refund: now,
        trade_status: 'TRADE_SUCCESS',
        subject: 'bench',
      },
      key,
    );
    out.push({
      method: 'POST',
      path: '/v1/receipts/alipay',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  }
  return out;
}

const REFUND_COPY_COLUMNS = `refunds (provider, refund_no, trade_no, receipt_id, amount_minor, currency,
  refunded_at, fingerprint, raw, raw_content_type)`;

/**
 * POST /v1/refunds/batch: `batchReceipts` refunds (one per stored receipt), batchLinesPerRequest
 * lines a request, one request after another; then COPY of the same rows from bare pg.
 */
async function refundBatch(
  stage: Stage,
  apiUrl: string,
  store: BenchStore,
  report: ScenarioReport,
) {
  const s = stage.opts.sizes;
  const total = s.batchReceipts;
  const per = s.batchLinesPerRequest;
  const tag = `b${randomBytes(4).toString('hex')}`;
  await truncate(stage.db.pool, ['refunds']);
  log(`refund batch: ${f0(total)} receipts, then the NDJSON refunds…`);
  await stage.db.pool.query(
    `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                           amount_minor, currency, paid_at, subject, fingerprint, raw_notification, raw_content_type)
     SELECT 'sunmi-pos', $1 || i, 'sunmi-pos:p' || i, $2, $3, $4, $5, 10000, 'CNY',
            now() - interval '1 hour', 'bench', repeat('0', 64), '{}', 'application/json'
       FROM generate_series(0, $6 - 1) AS i`,
    [
      `${tag}-`,
      store.accounts['sunmi-pos'],
      store.merchantId,
      store.storeId,
      store.regionCode,
      total,
    ],
  );
  const at = new Date().toISOString();
  const lineOf = (i: number) =>
    JSON.stringify({
      provider: 'sunmi-pos',
      tradeNo: `${tag}-${i}`,
      refundNo: `RF-${tag}-${i}`,
      amountMinor: 1000 + (i % 9000),
      currency: 'CNY',
      refundedAt: at,
    });
  const bodies: { body: string; sig: string }[] = [];
  for (let start = 0; start < total; start += per) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(total, start + per); i++) lines.push(lineOf(i));
    const body = `${lines.join('\n')}\n`;
    bodies.push({ body, sig: signHmac(body, HMAC_SECRET) });
  }
  log(`refund batch: POST /v1/refunds/batch × ${bodies.length}…`);
  let created = 0;
  const t0 = process.hrtime.bigint();
  for (const b of bodies) {
    const res = await fetch(`${apiUrl}/v1/refunds/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'x-hejie-signature': b.sig },
      body: b.body,
    });
    if (res.status !== 200) throw new Error(`refund batch → ${res.status}: ${await res.text()}`);
    created += ((await res.json()) as { created: number }).created;
  }
  const hejieS = Number(process.hrtime.bigint() - t0) / 1e9;
  bodies.length = 0;

  // The floor: the very rows Hejie stored (same receipt, fingerprint, raw line), by COPY.
  const ids = new Map<string, string>(
    (
      await stage.db.pool.query<{ trade_no: string; id: string }>(
        `SELECT trade_no, id FROM receipts WHERE provider = 'sunmi-pos' AND trade_no LIKE $1`,
        [`${tag}-%`],
      )
    ).rows.map((r) => [r.trade_no, r.id]),
  );
  const chunks: Buffer[] = [];
  let rows: string[] = [];
  for (let i = 0; i < total; i++) {
    const raw = lineOf(i);
    const r = parseGenericRefund(JSON.parse(raw));
    rows.push(
      [
        r.provider,
        r.refundNo,
        r.tradeNo,
        ids.get(r.tradeNo) ?? null,
        r.amountMinor ?? 0,
        r.currency,
        r.refundedAt.toISOString(),
        refundFingerprint(r),
        raw,
        'application/x-ndjson',
      ]
        .map(copyValue)
        .join('\t'),
    );
    if (rows.length === 10_000 || i === total - 1) {
      chunks.push(Buffer.from(`${rows.join('\n')}\n`));
      rows = [];
    }
  }
  await truncate(stage.db.pool, ['refunds']);
  log(`refund batch: COPY of the same ${f0(total)} rows…`);
  const client = new Client({ connectionString: stage.db.url });
  await client.connect();
  const t1 = process.hrtime.bigint();
  const copied = await copyFrom(client, `COPY ${REFUND_COPY_COLUMNS} FROM STDIN`, chunks);
  const floorS = Number(process.hrtime.bigint() - t1) / 1e9;
  await client.end();
  chunks.length = 0;

  const hejieRate = created / hejieS;
  const floorRate = copied / floorS;
  report.tables.push({
    title: `Batch import of ${f0(total)} refunds (${f0(per)} lines a request, sequential)`,
    columns: ['', 'refunds', 'seconds', 'refunds/s', 'ratio to floor'],
    rows: [
      [
        'Hejie POST /v1/refunds/batch',
        f0(created),
        f1(hejieS),
        f0(hejieRate),
        pct(hejieRate / floorRate),
      ],
      ['floor: COPY (bare pg)', f0(copied), f1(floorS), f0(floorRate), '100%'],
    ],
  });
  report.checks.push({
    target: 'refund batch ≥ 40% of COPY refunds/s',
    measured: pct(hejieRate / floorRate),
    pass: hejieRate / floorRate >= 0.4 && created === total,
  });
  report.raw.refundBatch = { total, created, copied, hejieS, floorS, hejieRate, floorRate };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * One load run after a warm-up, and the CPU the server process spent per request during it
 * (ms): unlike req/s on a shared machine, barely moved by what else runs (the load generator,
 * PostgreSQL and other work queue for the CPUs, but the server's own CPU per request stays).
 */
async function measure(
  stage: Stage,
  url: string,
  pid: number,
  pool: PreparedRequest[],
  connections: number,
): Promise<LoadResult & { cpuMsPerReq: number | null }> {
  const s = stage.opts.sizes;
  await truncate(stage.db.pool, ['refunds']);
  await runLoad({ url, connections, seconds: s.warmupSeconds, pool });
  await sleep(1000);
  await truncate(stage.db.pool, ['refunds']);
  const before = cpuSeconds(pid);
  const r = await runLoad({ url, connections, seconds: s.loadSeconds, pool });
  const after = cpuSeconds(pid);
  const cpuMsPerReq =
    before === null || after === null || !r.requests
      ? null
      : ((after - before) * 1000) / r.requests;
  return { ...r, cpuMsPerReq };
}

export async function refunds(opts: Options): Promise<ScenarioReport> {
  const s = opts.sizes;
  const report = newReport('refunds', '5. Refund intake');
  const stage = await openStage('refunds', opts);
  report.notes.push(heapNote(opts));
  try {
    const floor = await stage.startFloor();
    const api = await stage.startApi();
    const store = await createMerchantWithStore(api.url, '330106', ['alipay', 'sunmi-pos']);
    if (opts.refundBatchOnly) {
      await refundBatch(stage, api.url, store, report);
      report.memory.push({ scenario: 'refunds', process: 'api', peakRssMb: api.peakRssMb() });
      return report;
    }
    const tag = randomBytes(4).toString('hex');
    const n = Math.max(s.alipayPool, s.genericPool);
    log(`refunds: ${f0(n)} receipts per provider, then the signed refunds…`);
    await seedReceipts(stage, store, tag, n);
    const pools = {
      generic: genericRefundPool(s.genericPool, tag),
      alipay: alipayRefundPool(s.alipayPool, tag, store, stage.alipay.privateKeyPem),
    };
    const rows: (string | number)[][] = [];
    const raw: Record<string, unknown> = {};
    for (const kind of ['generic', 'alipay'] as const) {
      for (const c of s.connections) {
        log(`refunds ${kind} @${c}: Hejie…`);
        const h = await measure(stage, api.url, api.pid, pools[kind], c);
        log(`refunds ${kind} @${c}: floor…`);
        const f = await measure(stage, floor.url, floor.pid, pools[kind], c);
        raw[`${kind}@${c}`] = { hejie: h, floor: f };
        const label = kind === 'alipay' ? 'Alipay RSA2 refund_fee' : 'generic HMAC refund';
        for (const [who, r] of [
          ['Hejie', h],
          ['floor', f],
        ] as const) {
          rows.push([
            `${label}, ${c} conn — ${who}`,
            f0(r.rps),
            f1(r.p50),
            f1(r.p99),
            f0(r.errors),
            who === 'Hejie' ? pct(h.rps / f.rps) : '100%',
            r.cpuMsPerReq === null ? '' : r.cpuMsPerReq.toFixed(2),
            r.poolEnded ? 'pool used up' : '',
          ]);
        }
        report.checks.push({
          target: `single ${label} @${c} ≥ 40% of floor req/s`,
          measured: `${pct(h.rps / f.rps)} (${f0(h.rps)} vs ${f0(f.rps)})`,
          pass: h.rps / f.rps >= 0.4 && h.errors === 0,
        });
      }
    }
    report.tables.push({
      title: `Single signed refund notifications over HTTP (autocannon, ${s.loadSeconds} s a run after ${s.warmupSeconds} s warm-up)`,
      columns: ['case', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'ratio', 'server CPU ms/req', ''],
      rows,
    });
    report.raw.single = raw;
    // The batches, in the same run: receipts (bench/intake.ts) and refunds, each against COPY.
    await receiptBatch(stage, api.url, store, report);
    await refundBatch(stage, api.url, store, report);
    report.memory.push({ scenario: 'refunds', process: 'api', peakRssMb: api.peakRssMb() });
    report.notes.push(
      'Floor: bench/floor/server.ts — verifies the HMAC / RSA2 signature and inserts the same refunds row (receipt matched by a subselect) after claiming its key in refund_keys with ON CONFLICT DO NOTHING; no running total, no cap, no ticket.',
    );
    return report;
  } finally {
    await stage.close();
  }
}

if (require.main === module) runStandalone('refunds', refunds);
