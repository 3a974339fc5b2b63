/*
 * POST /v1/refunds/batch (API.md Receipts → Refunds; README): generic refunds as NDJSON, one
 * signature over the body as for POST /v1/receipts/batch, each line under the rules of
 * POST /v1/refunds — idempotent on (provider, refundNo), matched to its receipt whenever both
 * are known, never past the amount paid — and settling tickets as single refunds do.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { signHmac } from '../libs/receipts/src/verifiers/test-signers';
import { HMAC_SECRET, startTestApp, TestApp } from './helpers/test-app';
import { genericReceipt, postBatch, postGeneric } from './factories/receipts.factory';
import { genericRefund } from './factories/refunds.factory';
import { createShop, Shop, ticketIn } from './factories/complaint.factory';

const MiB = 1024 * 1024;

/** A real port for a raw socket (the test app answers supertest without listening). */
async function listen(t: TestApp): Promise<number> {
  const server = t.app.getHttpServer() as http.Server;
  if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

describe('POST /v1/refunds/batch', () => {
  let t: TestApp;
  let shop: Shop;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000', BATCH_MAX_CONCURRENT: '8' });
    shop = await createShop(t, '330106');
  }, 120_000);
  afterAll(async () => {
    await t.close();
    delete process.env.BATCH_MAX_CONCURRENT;
  });

  const ndjson = (lines: (object | string)[]) =>
    lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
  const postRefundBatch = (body: string, signature?: string | null) => {
    const req = t.http.post('/v1/refunds/batch').set('content-type', 'application/x-ndjson');
    const sig = signature === undefined ? signHmac(body, HMAC_SECRET) : signature;
    if (sig !== null) req.set('x-hejie-signature', sig);
    return req.send(body);
  };
  const receipt = async (amountMinor: number) =>
    (await postGeneric(t, genericReceipt({ amountMinor })).expect(201)).body as {
      id: string;
      tradeNo: string;
    };
  const rows = (tradeNo: string) =>
    t.db.query(
      `SELECT refund_no, amount_minor::int AS amount, receipt_id FROM refunds
        WHERE provider = 'sunmi-pos' AND trade_no = $1 ORDER BY refund_no`,
      [tradeNo],
    ) as Promise<{ refund_no: string; amount: number; receipt_id: string | null }[]>;

  it('created, duplicates and rejected lines by number; never past the amount paid; the same batch again is all duplicates', async () => {
    const paid = await receipt(5000);
    const usd = await receipt(5000);
    const a = genericRefund(paid.tradeNo, { amountMinor: 3000 });
    const tooMuch = genericRefund(paid.tradeNo, { amountMinor: 2500 });
    const rest = genericRefund(paid.tradeNo, { amountMinor: 2000 });
    const body = ndjson([
      a, // 1 created (3000 of 5000)
      tooMuch, // 2 3000 + 2500 > 5000: refused, counts for nothing
      rest, // 3 created (5000 of 5000)
      a, // 4 the same refund again: duplicate
      { ...a, amountMinor: 2999 }, // 5 other facts under the key
      '{"provider":', // 6 not JSON
      '', // 7 blank lines count, are skipped
      genericRefund(paid.tradeNo, { provider: 'alipay' }), // 8 reserved provider
      genericRefund(usd.tradeNo, { currency: 'USD' }), // 9 not the payment's currency
      { ...genericRefund(paid.tradeNo), extra: 1 }, // 10 unknown field
    ]);
    const res = await postRefundBatch(body).expect(200);
    expect(res.body).toMatchObject({ created: 2, duplicates: 1 });
    expect(res.body.rejected.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([
      [2, 'REFUND_EXCEEDS_PAYMENT'],
      [5, 'RECEIPT_CONFLICT'],
      [6, 'VALIDATION_FAILED'],
      [8, 'PROVIDER_RESERVED'],
      [9, 'VALIDATION_FAILED'],
      [10, 'VALIDATION_FAILED'],
    ]);
    expect(await rows(paid.tradeNo)).toEqual(
      [
        { refund_no: a.refundNo, amount: 3000, receipt_id: paid.id },
        { refund_no: rest.refundNo, amount: 2000, receipt_id: paid.id },
      ].sort((x, y) => x.refund_no.localeCompare(y.refund_no)),
    );
    expect(await rows(usd.tradeNo)).toEqual([]);
    // Exactly what POST /v1/refunds would say for the line refused (the cap is now reached).
    const again = await postRefundBatch(body).expect(200);
    expect(again.body).toMatchObject({ created: 0, duplicates: 3 });
    expect(again.body.rejected.map((r: { line: number }) => r.line)).toEqual([2, 5, 6, 8, 9, 10]);
    expect(await rows(paid.tradeNo)).toHaveLength(2);
  });

  it('the same trade number under two providers: each payment capped by its own refunds only', async () => {
    // The batch reads the sums refunded so far for all the chunk's trades at once (by providers
    // and trade numbers): a sum must be taken for its own (provider, trade), never another's.
    const tradeNo = `T2P${Date.now().toString(36)}`;
    const pos = (await postGeneric(t, genericReceipt({ tradeNo, amountMinor: 5000 })).expect(201))
      .body as { id: string };
    const other = (
      await postGeneric(
        t,
        genericReceipt({ tradeNo, provider: 'other-pos', amountMinor: 5000 }),
      ).expect(201)
    ).body as { id: string };
    const first = genericRefund(tradeNo, { amountMinor: 4000 });
    expect((await postRefundBatch(ndjson([first])).expect(200)).body.created).toBe(1);
    const res = await postRefundBatch(
      ndjson([
        genericRefund(tradeNo, { provider: 'other-pos', amountMinor: 3000 }), // 1: 3000 of 5000
        genericRefund(tradeNo, { amountMinor: 1500 }), // 2: 4000 + 1500 > 5000
        genericRefund(tradeNo, { provider: 'other-pos', amountMinor: 2000 }), // 3: 5000 of 5000
      ]),
    ).expect(200);
    expect(res.body.created).toBe(2);
    expect(res.body.rejected.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([
      [2, 'REFUND_EXCEEDS_PAYMENT'],
    ]);
    const stored = (await t.db.query(
      `SELECT provider, sum(amount_minor)::int AS total, min(receipt_id::text) AS receipt
         FROM refunds WHERE trade_no = $1 GROUP BY provider ORDER BY provider`,
      [tradeNo],
    )) as { provider: string; total: number; receipt: string }[];
    expect(stored).toEqual([
      { provider: 'other-pos', total: 5000, receipt: other.id },
      { provider: 'sunmi-pos', total: 4000, receipt: pos.id },
    ]);
  });

  it('a refund before its receipt is stored unmatched and matched when the receipt comes (single or batch)', async () => {
    const single = genericReceipt({ amountMinor: 4000 });
    const batched = genericReceipt({ amountMinor: 4000 });
    const first = genericRefund(single.tradeNo as string, { amountMinor: 4000 });
    const second = genericRefund(batched.tradeNo as string, { amountMinor: 1000 });
    expect((await postRefundBatch(ndjson([first, second])).expect(200)).body).toEqual({
      created: 2,
      duplicates: 0,
      rejected: [],
    });
    expect((await rows(single.tradeNo as string))[0].receipt_id).toBeNull();
    const r1 = (await postGeneric(t, single).expect(201)).body;
    expect(r1.refundedMinor).toBe(4000);
    expect((await rows(single.tradeNo as string))[0].receipt_id).toBe(r1.id);
    expect((await postBatch(t, JSON.stringify(batched)).expect(200)).body.created).toBe(1);
    const [matched] = await rows(batched.tradeNo as string);
    expect(matched.receipt_id).not.toBeNull();
    // The receipt is now known: the cap applies to later lines.
    const over = genericRefund(batched.tradeNo as string, { amountMinor: 3001 });
    const res = await postRefundBatch(ndjson([over])).expect(200);
    expect(res.body.rejected).toEqual([
      expect.objectContaining({ line: 1, code: 'REFUND_EXCEEDS_PAYMENT' }),
    ]);
  });

  it('a bad or missing signature → 401 RECEIPT_SIGNATURE_INVALID, nothing stored', async () => {
    const paid = await receipt(5000);
    const body = ndjson([genericRefund(paid.tradeNo)]);
    for (const sig of [null, signHmac(body, 'another-secret'), 'sha256=xyz']) {
      const res = await postRefundBatch(body, sig);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('RECEIPT_SIGNATURE_INVALID');
    }
    expect(await rows(paid.tradeNo)).toEqual([]);
  });

  it('a missing signature is refused before the body is read (32 MiB declared, none sent)', async () => {
    const port = await listen(t);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer without the body; got ${JSON.stringify(got)}`));
      }, 5000);
      socket.on('connect', () =>
        socket.write(
          `POST /v1/refunds/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n` +
            `Content-Length: ${32 * MiB}\r\n\r\n`,
        ),
      );
      socket.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('RECEIPT_SIGNATURE_INVALID')) {
          clearTimeout(timer);
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('error', reject);
    });
    expect(answer.split(' ')[1]).toBe('401');
  });

  it('a refund line settles a settling ticket exactly as a single refund: refund_received, settled, trail valid', async () => {
    const tk = await ticketIn(t, shop, 'settling'); // partial_refund of 5000 accepted
    const tradeNo = tk.body.order.tradeNo as string;
    const res = await postRefundBatch(
      ndjson([
        genericRefund(tradeNo, { amountMinor: 2000 }),
        genericRefund(tradeNo, { amountMinor: 3000 }),
      ]),
    ).expect(200);
    expect(res.body).toMatchObject({ created: 2, duplicates: 0, rejected: [] });
    const done = (await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200)).body;
    expect(done).toMatchObject({ status: 'resolved', settledVia: 'refund' });
    expect(done.settlement).toMatchObject({ refundedMinor: 5000, settledVia: 'refund' });
    const events = (
      await t.http.get(`/v1/complaints/${tk.id}/events`).set(tk.consumer).expect(200)
    ).body.items.map((e: { type: string }) => e.type);
    expect(events.filter((x: string) => x === 'refund_received')).toHaveLength(2);
    expect(events.filter((x: string) => x === 'settled')).toHaveLength(1);
    const verify = await t.http
      .get(`/v1/complaints/${tk.id}/events/verify`)
      .set(tk.consumer)
      .expect(200);
    expect(verify.body.valid).toBe(true);
  });

  it('two identical batches at once (over two chunks, with a settling ticket) → each refund stored once, one event each', async () => {
    const tk = await ticketIn(t, shop, 'settling');
    const ticketTrade = tk.body.order.tradeNo as string;
    const receipts = await Promise.all(Array.from({ length: 5 }, () => receipt(1_000_000)));
    const lines: object[] = [genericRefund(ticketTrade, { amountMinor: 5000 })];
    for (let i = 0; i < 2600; i++) {
      lines.push(genericRefund(receipts[i % 5].tradeNo, { amountMinor: 100 + (i % 7) }));
    }
    const body = ndjson(lines);
    const [x, y] = await Promise.all([postRefundBatch(body), postRefundBatch(body)]);
    expect([x.status, y.status]).toEqual([200, 200]);
    expect(x.body.created + y.body.created).toBe(lines.length);
    expect(x.body.duplicates + y.body.duplicates).toBe(lines.length);
    expect([...x.body.rejected, ...y.body.rejected]).toEqual([]);
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM refunds WHERE provider = 'sunmi-pos' AND trade_no = ANY($1)`,
      [[ticketTrade, ...receipts.map((r) => r.tradeNo)]],
    );
    expect(n).toBe(lines.length);
    const events = (
      await t.http.get(`/v1/complaints/${tk.id}/events`).set(tk.consumer).expect(200)
    ).body.items.map((e: { type: string }) => e.type);
    expect(events.filter((e: string) => e === 'refund_received')).toHaveLength(1);
    expect(events.filter((e: string) => e === 'settled')).toHaveLength(1);
  });

  it('a batch over more trades than PostgreSQL has lock slots (20,000; "out of shared memory" with a lock per trade) is stored whole', async () => {
    const tag = `L${Date.now().toString(36)}`;
    await t.db.query(
      `INSERT INTO receipts (provider, trade_no, payer_id, account_id, amount_minor, currency, paid_at,
                             subject, fingerprint, raw_notification, raw_content_type)
       SELECT 'sunmi-pos', $1 || i, 'sunmi-pos:p' || i, 'acc', 1000, 'CNY', now(), 's',
              repeat('0', 64), '{}', 'application/json'
         FROM generate_series(1, 20000) i`,
      [tag],
    );
    const body = ndjson(
      Array.from({ length: 20000 }, (_, i) =>
        genericRefund(`${tag}${i + 1}`, { amountMinor: 500 }),
      ),
    );
    const res = await postRefundBatch(body).expect(200);
    expect(res.body).toEqual({ created: 20000, duplicates: 0, rejected: [] });
    // 20,000 receipts and refunds: seconds alone, past 30 s on a machine shared with other suites.
  }, 120_000);

  it('the cap holds between two different batches racing on one payment', async () => {
    const paid = await receipt(10000);
    const batches = [0, 1].map(() =>
      ndjson(Array.from({ length: 8 }, () => genericRefund(paid.tradeNo, { amountMinor: 1000 }))),
    );
    const [x, y] = await Promise.all(batches.map((b) => postRefundBatch(b)));
    expect(x.body.created + y.body.created).toBe(10);
    const refused = [...x.body.rejected, ...y.body.rejected];
    expect(refused).toHaveLength(6);
    expect(new Set(refused.map((r: { code: string }) => r.code))).toEqual(
      new Set(['REFUND_EXCEEDS_PAYMENT']),
    );
    const stored = await rows(paid.tradeNo);
    expect(stored.reduce((s, r) => s + r.amount, 0)).toBe(10000);
  });
});
