/*
 * Refund intake (API.md Receipts → Refunds): the generic signed route, Alipay's refund_fee on
 * the trade notification, WeChat Pay REFUND.SUCCESS; idempotency under concurrency, refunds
 * before their receipt, the cap at the amount paid, and GET /v1/receipts/:id with refunds.
 */
import { randomBytes } from 'node:crypto';
import { obtainClient } from '../libs/receipts/src/batch-tx';
import { refundGateKey, tradeLockKey } from '../libs/receipts/src/refunds/refund-rows';
import { buildWechatpayNotification } from '../libs/receipts/src/verifiers/test-signers';
import { APIV3_KEY, bearer, startTestApp, TestApp } from './helpers/test-app';
import {
  alipayParams,
  genericReceipt,
  postGeneric,
  postWechatpay,
  sendAlipay,
  wechatpayNotification,
  wechatpayTransaction,
} from './factories/receipts.factory';
import { genericRefund, postRefund, shanghaiLocal } from './factories/refunds.factory';

describe('refunds', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000' });
  });
  afterAll(() => t.close());

  const refundRows = (provider: string, tradeNo: string) =>
    t.db.query(
      'SELECT refund_no, amount_minor::int AS amount, receipt_id FROM refunds WHERE provider = $1 AND trade_no = $2 ORDER BY received_at',
      [provider, tradeNo],
    );
  const asPayer = (payerId: string) => bearer(t.token({ role: 'consumer', sub: payerId }));

  describe('POST /v1/refunds (generic, HMAC-signed)', () => {
    it('201 new, 200 the same again, 409 RECEIPT_CONFLICT for other facts under the key', async () => {
      const receipt = (await postGeneric(t, genericReceipt({ amountMinor: 12250 })).expect(201))
        .body;
      const body = genericRefund(receipt.tradeNo, { amountMinor: 3000 });
      const first = await postRefund(t, body).expect(201);
      expect(first.body).toMatchObject({
        provider: 'sunmi-pos',
        tradeNo: receipt.tradeNo,
        refundNo: body.refundNo,
        receiptId: receipt.id,
        amountMinor: 3000,
        currency: 'CNY',
      });
      const again = await postRefund(t, body).expect(200);
      expect(again.body.id).toBe(first.body.id);
      const other = await postRefund(t, { ...body, amountMinor: 3001 }).expect(409);
      expect(other.body.code).toBe('RECEIPT_CONFLICT');
      expect(await refundRows('sunmi-pos', receipt.tradeNo)).toHaveLength(1);

      const view = await t.http
        .get(`/v1/receipts/${receipt.id}`)
        .set(asPayer(receipt.payerId))
        .expect(200);
      expect(view.body.refundedMinor).toBe(3000);
      expect(view.body.refunds).toEqual([
        { refundNo: body.refundNo, amountMinor: 3000, refundedAt: first.body.refundedAt },
      ]);
      const bills = await t.http.get('/v1/receipts').set(asPayer(receipt.payerId)).expect(200);
      expect(bills.body.items[0].refundedMinor).toBe(3000);
    });

    it('422 REFUND_EXCEEDS_PAYMENT when refunds would pass the amount paid; nothing written', async () => {
      const receipt = (await postGeneric(t, genericReceipt({ amountMinor: 5000 })).expect(201))
        .body;
      await postRefund(t, genericRefund(receipt.tradeNo, { amountMinor: 4000 })).expect(201);
      const over = await postRefund(t, genericRefund(receipt.tradeNo, { amountMinor: 1001 }));
      expect(over.status).toBe(422);
      expect(over.body.code).toBe('REFUND_EXCEEDS_PAYMENT');
      await postRefund(t, genericRefund(receipt.tradeNo, { amountMinor: 1000 })).expect(201);
      expect(await refundRows('sunmi-pos', receipt.tradeNo)).toHaveLength(2);
      // Another currency than the payment's: 400, nothing written.
      const other = (await postGeneric(t, genericReceipt({ amountMinor: 5000 })).expect(201)).body;
      const usd = await postRefund(t, genericRefund(other.tradeNo, { currency: 'USD' }));
      expect(usd.status).toBe(400);
      expect(usd.body.code).toBe('VALIDATION_FAILED');
      expect(await refundRows('sunmi-pos', other.tradeNo)).toHaveLength(0);
    });

    it('422 PROVIDER_RESERVED for alipay / wechatpay refunds on the generic route; nothing written', async () => {
      for (const provider of ['alipay', 'wechatpay']) {
        const body = genericRefund(`T${provider}${Date.now()}`, { provider });
        const res = await postRefund(t, body);
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('PROVIDER_RESERVED');
        expect(await refundRows(provider, body.tradeNo)).toHaveLength(0);
      }
    });

    it('a refund before its receipt is stored unmatched and matched when the receipt comes; the receipt caps refundedMinor', async () => {
      const receiptBody = genericReceipt({ amountMinor: 2000 });
      const early = await postRefund(
        t,
        genericRefund(receiptBody.tradeNo as string, { amountMinor: 1500 }),
      ).expect(201);
      expect(early.body.receiptId).toBeNull();
      await postRefund(
        t,
        genericRefund(receiptBody.tradeNo as string, { amountMinor: 1500 }),
      ).expect(201); // receipt unknown: nothing to cap against yet
      const receipt = (await postGeneric(t, receiptBody).expect(201)).body;
      const rows = await refundRows('sunmi-pos', receipt.tradeNo);
      expect(rows.map((r: { receipt_id: string }) => r.receipt_id)).toEqual([
        receipt.id,
        receipt.id,
      ]);
      // 3000 refunded against 2000 paid: refundedMinor never exceeds the amount paid.
      expect(receipt.refundedMinor).toBe(2000);
    });

    it('ten parallel deliveries of one refund store it once', async () => {
      const receipt = (await postGeneric(t, genericReceipt({ amountMinor: 9000 })).expect(201))
        .body;
      const body = genericRefund(receipt.tradeNo, { amountMinor: 100 });
      const results = await Promise.all(Array.from({ length: 10 }, () => postRefund(t, body)));
      expect(results.map((r) => r.status).sort()).toEqual([
        200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
      ]);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(await refundRows('sunmi-pos', receipt.tradeNo)).toHaveLength(1);
    });

    it('parallel different refunds of one trade never exceed the amount paid', async () => {
      const receipt = (await postGeneric(t, genericReceipt({ amountMinor: 1000 })).expect(201))
        .body;
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          postRefund(t, genericRefund(receipt.tradeNo, { amountMinor: 300 })),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(3);
      expect(results.filter((r) => r.status === 422)).toHaveLength(5);
      const [{ sum }] = await t.db.query(
        'SELECT sum(amount_minor)::int AS sum FROM refunds WHERE provider = $1 AND trade_no = $2',
        ['sunmi-pos', receipt.tradeNo],
      );
      expect(sum).toBe(900);
    });

    it('bad signature → 401, bad body → 400, and nothing is written', async () => {
      const body = genericRefund('T-nope');
      const unsigned = await postRefund(t, body, null);
      expect(unsigned.status).toBe(401);
      expect(unsigned.body.code).toBe('RECEIPT_SIGNATURE_INVALID');
      const bad = await postRefund(t, { ...body, amountMinor: -1 });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
      expect(await refundRows('sunmi-pos', 'T-nope')).toHaveLength(0);
    });
  });

  describe('Alipay refund_fee on the trade notification', () => {
    it('partial (TRADE_SUCCESS) then full (TRADE_CLOSED): amounts are the running total minus what was recorded; re-delivery adds nothing', async () => {
      const pay = alipayParams({ total_amount: '122.50' });
      await sendAlipay(t, pay).expect(200, 'success');
      const [receipt] = await t.db.query(
        `SELECT id, payer_id FROM receipts WHERE provider = 'alipay' AND trade_no = $1`,
        [pay.trade_no],
      );
      const partial = {
        ...pay,
        notify_id: 'n-refund-1',
        out_biz_no: 'RF-A-1',
        refund_fee: '30.00',
        gmt_refund: shanghaiLocal(new Date(Date.now() - 60_000)),
      };
      await sendAlipay(t, partial).expect(200, 'success');
      await sendAlipay(t, { ...partial, notify_id: 'n-refund-1b' }).expect(200, 'success');
      const full = {
        ...pay,
        notify_id: 'n-refund-2',
        trade_status: 'TRADE_CLOSED',
        out_biz_no: 'RF-A-2',
        refund_fee: '122.50',
        gmt_refund: shanghaiLocal(new Date()),
      };
      await sendAlipay(t, full).expect(200, 'success');
      await sendAlipay(t, full).expect(200, 'success');
      expect(await refundRows('alipay', pay.trade_no)).toEqual([
        { refund_no: 'RF-A-1', amount: 3000, receipt_id: receipt.id },
        { refund_no: 'RF-A-2', amount: 9250, receipt_id: receipt.id },
      ]);
      const view = await t.http
        .get(`/v1/receipts/${receipt.id}`)
        .set(asPayer(receipt.payer_id))
        .expect(200);
      expect(view.body.refundedMinor).toBe(12250);
      expect(view.body.refunds.map((r: { amountMinor: number }) => r.amountMinor)).toEqual([
        3000, 9250,
      ]);
    });

    it('a refund notification for an unknown trade is stored unmatched; the trade notification matches it later', async () => {
      const pay = alipayParams({ total_amount: '10.00' });
      await sendAlipay(t, {
        ...pay,
        trade_status: 'TRADE_CLOSED',
        out_biz_no: 'RF-EARLY',
        refund_fee: '10.00',
        gmt_refund: shanghaiLocal(new Date()),
      }).expect(200, 'success');
      expect(await refundRows('alipay', pay.trade_no)).toEqual([
        { refund_no: 'RF-EARLY', amount: 1000, receipt_id: null },
      ]);
      await sendAlipay(t, pay).expect(200, 'success');
      const [row] = await refundRows('alipay', pay.trade_no);
      expect(row.receipt_id).not.toBeNull();
    });
  });

  describe('WeChat Pay REFUND.* on the notification route', () => {
    it('REFUND.SUCCESS records amount.refund under refund_id; REFUND.CLOSED is acknowledged and records nothing', async () => {
      const tx = wechatpayTransaction({
        amount: { total: 3500, payer_total: 3500, currency: 'CNY' },
      });
      await postWechatpay(t, wechatpayNotification(t, tx)).expect(204);
      const refund = {
        mchid: tx.mchid,
        transaction_id: tx.transaction_id,
        out_trade_no: tx.out_trade_no,
        out_refund_no: 'RF-W-1',
        refund_id: `5000${Date.now()}`,
        refund_status: 'SUCCESS',
        success_time: '2026-11-25T10:00:01+08:00',
        amount: { total: 3500, refund: 500, payer_total: 3500, payer_refund: 500 },
      };
      const signed = (eventType: string, resource: object) =>
        buildWechatpayNotification({
          transaction: resource,
          apiV3Key: APIV3_KEY,
          privateKeyPem: t.keys.wechatpay.privateKeyPem,
          eventType,
        });
      await postWechatpay(t, signed('REFUND.SUCCESS', refund)).expect(204);
      await postWechatpay(t, signed('REFUND.SUCCESS', refund)).expect(204);
      await postWechatpay(
        t,
        signed('REFUND.CLOSED', { ...refund, refund_id: 'other', refund_status: 'CLOSED' }),
      ).expect(204);
      expect(await refundRows('wechatpay', tx.transaction_id)).toEqual([
        { refund_no: refund.refund_id, amount: 500, receipt_id: expect.any(String) },
      ]);
    });
  });

  describe('hejie_record_refund (one call per single refund, its plan kept by the session)', () => {
    it("reads the trade's refunds so far by the trade even when the session planned the call while the month was empty", async () => {
      // A month ahead: its partition exists (created by the migration) and holds no refund.
      const now = new Date();
      const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 15));
      const provider = `plan${randomBytes(3).toString('hex')}`;
      const [client, release] = await obtainClient(t.db);
      const notices: string[] = [];
      client.on('notice', (n: { message?: string }) => notices.push(n.message ?? ''));
      const call = (i: number) =>
        client.query(
          `SELECT refusal FROM hejie_record_refund($1, $2, $3, 100, 0, 'CNY', $4, 'fp', '{}',
                                                   'application/json', $5, $6, $7, $8)`,
          [
            provider,
            `T${i}`,
            `R${i}`,
            month,
            ...refundGateKey(),
            ...tradeLockKey(provider, `T${i}`),
          ],
        );
      try {
        // Enough calls for PL/pgSQL's statement to settle on its kept (generic) plan while the
        // month is (nearly) empty…
        for (let i = 0; i < 8; i++) await call(i);
        // …then the provider's refunds in that month grow (no ANALYZE in between)…
        await t.db.query(
          `INSERT INTO refunds (provider, refund_no, trade_no, amount_minor, currency, refunded_at,
                                fingerprint, raw, raw_content_type)
           SELECT $1, 'bulk' || i, 'bulk' || i, 100, 'CNY', $2, 'fp', '{}', 'application/json'
             FROM generate_series(1, 3000) i`,
          [provider, month],
        );
        // …and the next call must not read all of them to sum one trade's.
        await client.query(`LOAD 'auto_explain'`);
        await client.query(`SET auto_explain.log_min_duration = 0`);
        await client.query(`SET auto_explain.log_nested_statements = on`);
        await client.query(`SET auto_explain.log_analyze = on`);
        await client.query(`SET auto_explain.log_level = notice`);
        expect((await call(100)).rows).toEqual([{ refusal: null }]);
        await client.query(`RESET auto_explain.log_min_duration`);
        const plans = notices.join('\n');
        expect(plans).toContain('Aggregate');
        const removed = [...plans.matchAll(/Rows Removed by Filter: (\d+)/g)].map((m) =>
          Number(m[1]),
        );
        expect(Math.max(0, ...removed)).toBeLessThan(100);
      } finally {
        release();
        await t.db.query('DELETE FROM refunds WHERE provider = $1', [provider]);
      }
    });
  });
});
