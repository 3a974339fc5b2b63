/*
 * Scenario 1 — receipt intake.
 *   single: signed notifications over HTTP (Alipay RSA2, generic HMAC) at each connection count,
 *           Hejie vs a bare node:http + pg server inserting the same row;
 *   batch:  POST /v1/receipts/batch (NDJSON, 50k lines a request, one after another) vs COPY of
 *           the same rows with bare pg.
 * Run alone: node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/intake.ts [--full]
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { signAlipayNotification, signHmac } from '../libs/receipts/src/verifiers/test-signers';
import { receiptFingerprint } from '../libs/receipts/src/receipt-fingerprint';
import { INSERT_ROWS } from '../libs/receipts/src/receipts.service';
import { parseGenericReceipt } from '../libs/receipts/src/verifiers/hmac.verifier';
import { Options, log, sleep } from './lib/cli';
import { truncate } from './lib/db';
import { LoadResult, PreparedRequest, runLoad } from './lib/load';
import { copyFrom, copyValue } from './lib/pg-copy';
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

const ALIPAY_TIME = (d: Date) =>
  new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

export function alipayPool(n: number, store: BenchStore, privateKeyPem: string): PreparedRequest[] {
  const tag = randomBytes(4).toString('hex');
  const paid = ALIPAY_TIME(new Date(Date.now() - 3600_000));
  const out: PreparedRequest[] = [];
  for (let i = 0; i < n; i++) {
    const body = signAlipayNotification(
      {
        notify_time: paid,
        notify_type: 'trade_status_sync',
        notify_id: `${tag}${i}`,
        app_id: '2021000000000000',
        charset: 'utf-8',
        version: '1.0',
        trade_no: `2026112322${tag}${String(i).padStart(8, '0')}`,
        out_trade_no: `ORDER-${tag}-${i}`,
        buyer_id: `2088${String(100000000000 + i)}`,
        seller_id: store.accounts.alipay,
        total_amount: '35.00',
        receipt_amount: '35.00',
        gmt_create: paid,
        gmt_payment: paid,
        trade_status: 'TRADE_SUCCESS',
        subject: '龙井茶 250g',
      },
      privateKeyPem,
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

function genericReceipt(i: number, tag: string, store: BenchStore, paidAt: string) {
  return {
    provider: 'sunmi-pos',
    tradeNo: `POS-${tag}-${i}`,
    payerId: `c${i}`,
    accountId: store.accounts['sunmi-pos'],
    amountMinor: 3500 + (i % 100),
    currency: 'CNY',
    paidAt,
    subject: '西湖龙井 礼盒',
    items: [{ name: '西湖龙井 250g', quantity: 1, unitPriceMinor: 3500 }],
  };
}

export function genericPool(n: number, store: BenchStore): PreparedRequest[] {
  const tag = randomBytes(4).toString('hex');
  const paidAt = new Date(Date.now() - 3600_000).toISOString();
  const out: PreparedRequest[] = [];
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify(genericReceipt(i, tag, store, paidAt));
    out.push({
      method: 'POST',
      path: '/v1/receipts',
      headers: {
        'content-type': 'application/json',
        'x-hejie-signature': signHmac(body, HMAC_SECRET),
      },
      body,
    });
  }
  return out;
}

/** Warm-up on the pool, empty the table, then the measured run on the same (again new) receipts. */
async function measure(
  stage: Stage,
  url: string,
  pool: PreparedRequest[],
  connections: number,
  pid?: number,
): Promise<LoadResult> {
  const s = stage.opts.sizes;
  await truncate(stage.db.pool, ['receipts']);
  await runLoad({ url, connections, seconds: s.warmupSeconds, pool });
  // Requests autocannon abandoned at its stop may still commit: let them, then empty the table.
  await sleep(1000);
  await truncate(stage.db.pool, ['receipts']);
  return runLoad({ url, connections, seconds: s.loadSeconds, pool, pid });
}

/**
 * ReceiptsService.insertRows's statement, verbatim: what single notifications use, and what the
 * batch route used before it staged its lines by COPY (kept as a reference for the statement
 * shape).
 */
const UNNEST_INSERT = INSERT_ROWS;

const COPY_COLUMNS = `receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
  amount_minor, currency, paid_at, subject, items, fingerprint, raw_notification, raw_content_type)`;

export async function batch(
  stage: Stage,
  apiUrl: string,
  store: BenchStore,
  report: ScenarioReport,
) {
  const s = stage.opts.sizes;
  const total = s.batchReceipts;
  const per = s.batchLinesPerRequest;
  const tag = randomBytes(4).toString('hex');
  const paidAt = new Date(Date.now() - 3600_000).toISOString();
  const lineOf = (i: number) => JSON.stringify(genericReceipt(i, tag, store, paidAt));

  log(`batch: building ${f0(total)} NDJSON lines…`);
  const bodies: { body: string; sig: string }[] = [];
  for (let start = 0; start < total; start += per) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(total, start + per); i++) lines.push(lineOf(i));
    const body = `${lines.join('\n')}\n`;
    bodies.push({ body, sig: signHmac(body, HMAC_SECRET) });
  }
  await truncate(stage.db.pool, ['receipts']);
  log(`batch: POST /v1/receipts/batch × ${bodies.length}…`);
  let created = 0;
  const t0 = process.hrtime.bigint();
  for (const b of bodies) {
    const res = await fetch(`${apiUrl}/v1/receipts/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'x-hejie-signature': b.sig },
      body: b.body,
    });
    if (res.status !== 200) throw new Error(`batch → ${res.status}: ${await res.text()}`);
    created += ((await res.json()) as { created: number }).created;
  }
  const hejieS = Number(process.hrtime.bigint() - t0) / 1e9;
  bodies.length = 0;

  // The floor: the very rows Hejie stored (same resolved store, fingerprint, raw line), by COPY.
  const rowOf = (i: number): (string | number | null)[] => {
    const raw = lineOf(i);
    const r = parseGenericReceipt(JSON.parse(raw));
    return [
      r.provider,
      r.tradeNo,
      r.payerId,
      r.accountId,
      store.merchantId,
      store.storeId,
      store.regionCode,
      r.amountMinor,
      r.currency,
      r.paidAt.toISOString(),
      r.subject,
      r.items === undefined ? null : JSON.stringify(r.items),
      receiptFingerprint(r),
      raw,
      'application/x-ndjson',
    ];
  };
  log(`batch: COPY of the same ${f0(total)} rows…`);
  const chunks: Buffer[] = [];
  let rows: string[] = [];
  for (let i = 0; i < total; i++) {
    rows.push(rowOf(i).map(copyValue).join('\t'));
    if (rows.length === 10_000 || i === total - 1) {
      chunks.push(Buffer.from(`${rows.join('\n')}\n`));
      rows = [];
    }
  }
  await truncate(stage.db.pool, ['receipts']);
  const client = new Client({ connectionString: stage.db.url });
  await client.connect();
  const t1 = process.hrtime.bigint();
  const copied = await copyFrom(client, `COPY ${COPY_COLUMNS} FROM STDIN`, chunks);
  const floorS = Number(process.hrtime.bigint() - t1) / 1e9;
  chunks.length = 0;

  // Reference: Hejie's former batch statement (multi-row INSERT … FROM unnest … ON CONFLICT DO NOTHING
  // RETURNING, 5,000 rows a statement) from bare pg; only the statements are timed.
  log(`batch: Hejie's INSERT … unnest statement from bare pg…`);
  await truncate(stage.db.pool, ['receipts']);
  let inserted = 0;
  let refS = 0;
  for (let start = 0; start < total; start += 5000) {
    const cols: (string | number | null)[][] = Array.from({ length: 15 }, () => []);
    for (let i = start; i < Math.min(total, start + 5000); i++)
      rowOf(i).forEach((v, c) => cols[c].push(v));
    const t = process.hrtime.bigint();
    const res = await client.query(UNNEST_INSERT, cols);
    refS += Number(process.hrtime.bigint() - t) / 1e9;
    inserted += res.rowCount ?? 0;
  }
  await client.end();
  const refRate = inserted / refS;

  const hejieRate = created / hejieS;
  const floorRate = copied / floorS;
  report.tables.push({
    title: `Batch import of ${f0(total)} receipts (${f0(per)} lines a request, sequential)`,
    columns: ['', 'receipts', 'seconds', 'receipts/s', 'ratio to floor'],
    rows: [
      [
        'Hejie POST /v1/receipts/batch',
        f0(created),
        f1(hejieS),
        f0(hejieRate),
        pct(hejieRate / floorRate),
      ],
      ['floor: COPY (bare pg)', f0(copied), f1(floorS), f0(floorRate), '100%'],
      [
        "reference: Hejie's former batch INSERT … unnest statement, 5,000 rows each (bare pg)",
        f0(inserted),
        f1(refS),
        f0(refRate),
        pct(refRate / floorRate),
      ],
    ],
  });
  report.checks.push({
    target: 'batch ≥ 50% of COPY receipts/s',
    measured: pct(hejieRate / floorRate),
    pass: hejieRate / floorRate >= 0.5 && created === total,
  });
  report.raw.batch = { total, created, copied, hejieS, floorS, hejieRate, floorRate, refRate };
}

export async function intake(opts: Options): Promise<ScenarioReport> {
  const s = opts.sizes;
  const report = newReport('intake', '1. Receipt intake');
  const stage = await openStage('intake', opts);
  report.notes.push(heapNote(opts));
  try {
    const floor = await stage.startFloor();
    const api = await stage.startApi();
    const store = await createMerchantWithStore(api.url, '330106', ['alipay', 'sunmi-pos']);
    log(
      `intake: signing ${f0(s.alipayPool)} Alipay notifications, ${f0(s.genericPool)} HMAC receipts…`,
    );
    const pools = {
      alipay: alipayPool(s.alipayPool, store, stage.alipay.privateKeyPem),
      generic: genericPool(s.genericPool, store),
    };
    const rows: (string | number)[][] = [];
    const raw: Record<string, unknown> = {};
    for (const kind of ['alipay', 'generic'] as const) {
      for (const c of s.connections) {
        log(`intake ${kind} @${c}: Hejie…`);
        const h = await measure(stage, api.url, pools[kind], c, api.pid);
        log(`intake ${kind} @${c}: floor…`);
        const f = await measure(stage, floor.url, pools[kind], c, floor.pid);
        raw[`${kind}@${c}`] = { hejie: h, floor: f };
        const label = kind === 'alipay' ? 'Alipay RSA2' : 'generic HMAC';
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
            r.cpuMsPerRequest === undefined ? '' : r.cpuMsPerRequest.toFixed(2),
            who === 'Hejie' ? pct(h.rps / f.rps) : '100%',
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
      title: `Single signed notifications over HTTP (autocannon, ${s.loadSeconds} s a run after ${s.warmupSeconds} s warm-up)`,
      columns: ['case', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU ms/req', 'ratio', ''],
      rows,
    });
    report.raw.single = raw;
    // The batch builds its own bodies; let the single-notification pools go first.
    pools.alipay.length = 0;
    pools.generic.length = 0;
    report.memory.push({
      scenario: 'intake',
      process: 'api (single notifications)',
      peakRssMb: api.peakRssMb(),
    });
    await batch(stage, api.url, store, report);
    report.memory.push({
      scenario: 'intake',
      process: `api (after the batch import, ${f0(s.batchLinesPerRequest)} lines a request)`,
      peakRssMb: api.peakRssMb(),
    });
    report.notes.push(
      'Floor: bench/floor/server.ts — node:http + pg (pool 20, as the API): verifies the RSA2 signature / HMAC, stores the same receipts row (store resolved by a join) in one statement: the key claimed in receipt_keys with ON CONFLICT DO NOTHING, then the row.',
    );
    return report;
  } finally {
    await stage.close();
  }
}

if (require.main === module) runStandalone('intake', intake);
