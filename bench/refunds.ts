/*
 * Scenario 5 — refund intake (issue 13), next to payment intake and against the same kind of
 * floor: signed refund notifications over HTTP (generic HMAC on POST /v1/refunds, Alipay RSA2
 * with refund_fee on POST /v1/receipts/alipay), each refunding a stored receipt, Hejie vs a bare
 * node:http + pg server that verifies the same signature and inserts the same refunds row.
 * Hejie does more per refund by design: the advisory lock of the trade, the running total and
 * the cap at the amount paid, and the ticket lookup (onRefundRecorded).
 * Run alone: node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/refunds.ts [--full]
 */
import { randomBytes } from 'node:crypto';
import { signAlipayNotification, signHmac } from '../libs/receipts/src/verifiers/test-signers';
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
async function seedReceipts(stage: Stage, store: BenchStore, tag: string, n: number) {
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

function genericPool(n: number, tag: string): PreparedRequest[] {
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

function alipayPool(n: number, tag: string, store: BenchStore, key: string): PreparedRequest[] {
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

async function measure(
  stage: Stage,
  url: string,
  pool: PreparedRequest[],
  connections: number,
): Promise<LoadResult> {
  const s = stage.opts.sizes;
  await truncate(stage.db.pool, ['refunds']);
  await runLoad({ url, connections, seconds: s.warmupSeconds, pool });
  await sleep(1000);
  await truncate(stage.db.pool, ['refunds']);
  return runLoad({ url, connections, seconds: s.loadSeconds, pool });
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
    const tag = randomBytes(4).toString('hex');
    const n = Math.max(s.alipayPool, s.genericPool);
    log(`refunds: ${f0(n)} receipts per provider, then the signed refunds…`);
    await seedReceipts(stage, store, tag, n);
    const pools = {
      generic: genericPool(s.genericPool, tag),
      alipay: alipayPool(s.alipayPool, tag, store, stage.alipay.privateKeyPem),
    };
    const rows: (string | number)[][] = [];
    const raw: Record<string, unknown> = {};
    for (const kind of ['generic', 'alipay'] as const) {
      for (const c of s.connections) {
        log(`refunds ${kind} @${c}: Hejie…`);
        const h = await measure(stage, api.url, pools[kind], c);
        log(`refunds ${kind} @${c}: floor…`);
        const f = await measure(stage, floor.url, pools[kind], c);
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
      columns: ['case', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'ratio', ''],
      rows,
    });
    report.raw.single = raw;
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
