import { randomUUID, sign } from 'node:crypto';
import { Client as PgClient } from 'pg';
import type { Response } from 'supertest';
import { DirectoryService } from '@app/directory';
import { BATCH_CHUNK_LINES } from '@app/receipts';
import {
  buildWechatpayNotification,
  generateRsaKeyPair,
  signAlipayNotification,
  signHmac,
} from '../libs/receipts/src/verifiers/test-signers';
import { createMerchantWithStore } from './factories/directory.factory';
import {
  alipayParams,
  genericReceipt,
  postAlipay,
  postBatch,
  postGeneric,
  postWechatpay,
  sendAlipay,
  uniqueTradeNo,
  wechatpayNotification,
  wechatpayTransaction,
} from './factories/receipts.factory';
import { FakeClock } from './helpers/fake-clock';
import { APIV3_KEY, bearer, HMAC_SECRET, startTestApp, TestApp } from './helpers/test-app';

interface ReceiptRow {
  id: string;
  provider: string;
  trade_no: string;
  payer_id: string;
  account_id: string;
  merchant_id: string | null;
  store_id: string | null;
  region_code: string | null;
  amount_minor: string;
  currency: string;
  paid_at: Date;
  subject: string;
  items: unknown;
  raw_notification: string;
  raw_content_type: string;
}

const RECEIPT_KEYS = [
  'id',
  'provider',
  'tradeNo',
  'payerId',
  'accountId',
  'merchantId',
  'storeId',
  'regionCode',
  'amountMinor',
  'currency',
  'paidAt',
  'subject',
  'complaintId',
];

const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

/** WeChat Pay's failure reply: its own JSON `{ code: "FAIL", message }`, not a problem. */
function expectWechatFailure(
  res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
  status: number,
) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ code: 'FAIL', message: expect.any(String) });
  expect((res.body.message as string).length).toBeGreaterThan(0);
}

describe('receipts', () => {
  let t: TestApp;
  let shop: Awaited<ReturnType<typeof createMerchantWithStore>>;

  beforeAll(async () => {
    // Some tests below send many batches at once on purpose (the cap has its own tests).
    t = await startTestApp({ BATCH_MAX_CONCURRENT: '64' });
    shop = await createMerchantWithStore(t, { regionCode: '330106' });
  });
  afterAll(async () => {
    await t.close();
    delete process.env.BATCH_MAX_CONCURRENT;
  });

  const rowsOf = (provider: string, tradeNo: string): Promise<ReceiptRow[]> =>
    t.db.query('SELECT * FROM receipts WHERE provider = $1 AND trade_no = $2', [provider, tradeNo]);
  const countOf = async (provider: string, tradeNo: string): Promise<number> =>
    (await rowsOf(provider, tradeNo)).length;

  function expectProblem(
    res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
    status: number,
    code: string,
  ) {
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
    });
  }

  describe('POST /v1/receipts/alipay', () => {
    it('TRADE_SUCCESS → 200 text "success" and one receipt resolved from seller_id', async () => {
      const params = alipayParams({ seller_id: shop.account('alipay'), total_amount: '0.10' });
      const body = signAlipayNotification(params, t.keys.alipay.privateKeyPem);
      const res = await postAlipay(t, body).expect(200);
      expect(res.text).toBe('success');
      expect(res.headers['content-type']).toMatch(/^text\/plain/);

      const rows = await rowsOf('alipay', params.trade_no);
      expect(rows).toHaveLength(1);
      const r = rows[0];
      expect(Number(r.amount_minor)).toBe(10);
      expect(r).toMatchObject({
        payer_id: `alipay:${params.buyer_id}`,
        account_id: shop.account('alipay'),
        merchant_id: shop.merchant.id,
        store_id: shop.store.id,
        region_code: '330106',
        currency: 'CNY',
        subject: '龙井茶 250g',
      });
      // gmt_payment is Asia/Shanghai local time (UTC+8).
      expect(r.paid_at.toISOString()).toBe('2026-11-23T10:15:00.000Z');
      // The notification is evidence: kept byte for byte, with its content type.
      expect(r.raw_notification).toBe(body);
      expect(r.raw_content_type).toMatch(/^application\/x-www-form-urlencoded/);

      const view = await t.http
        .get(`/v1/receipts/${r.id}`)
        .set(bearer(t.token({ role: 'consumer', sub: `alipay:${params.buyer_id}` })))
        .expect(200);
      expect(view.body).toMatchObject({
        id: r.id,
        provider: 'alipay',
        tradeNo: params.trade_no,
        payerId: `alipay:${params.buyer_id}`,
        amountMinor: 10,
        paidAt: '2026-11-23T10:15:00.000Z',
        merchantId: shop.merchant.id,
        complaintId: null,
      });
    });

    it.each([
      ['0.10', 10],
      ['0.29', 29],
      ['1.15', 115],
      ['19.99', 1999],
      ['3.5', 350],
      ['12', 1200],
      ['0', 0],
      ['99999999.99', 9999999999],
    ])('total_amount "%s" is stored as exactly %d fen', async (amount, minor) => {
      const params = alipayParams({ total_amount: amount, seller_id: shop.account('alipay') });
      await sendAlipay(t, params).expect(200, 'success');
      const [r] = await rowsOf('alipay', params.trade_no);
      expect(r.amount_minor).toBe(String(minor));
    });

    it('TRADE_FINISHED also makes a receipt', async () => {
      const params = alipayParams({ trade_status: 'TRADE_FINISHED' });
      await sendAlipay(t, params).expect(200, 'success');
      expect(await countOf('alipay', params.trade_no)).toBe(1);
    });

    it('re-delivery (new notify_id and notify_time, re-signed) → "success" again, still one row', async () => {
      const params = alipayParams({ seller_id: shop.account('alipay') });
      const first = signAlipayNotification(params, t.keys.alipay.privateKeyPem);
      await postAlipay(t, first).expect(200, 'success');
      const [before] = await rowsOf('alipay', params.trade_no);

      await postAlipay(t, first).expect(200, 'success');
      await sendAlipay(t, {
        ...params,
        notify_id: randomUUID(),
        notify_time: '2026-11-23 18:19:03',
      }).expect(200, 'success');
      // Alipay later notifies TRADE_FINISHED for the same trade: the same payment.
      await sendAlipay(t, {
        ...params,
        notify_id: randomUUID(),
        trade_status: 'TRADE_FINISHED',
      }).expect(200, 'success');

      const rows = await rowsOf('alipay', params.trade_no);
      expect(rows).toHaveLength(1);
      expect(rows[0].id).toBe(before.id);
      expect(rows[0].raw_notification).toBe(first);
    });

    it('same trade_no with a different amount → 409 RECEIPT_CONFLICT; the stored one is kept', async () => {
      const params = alipayParams({ total_amount: '0.10' });
      await sendAlipay(t, params).expect(200, 'success');
      const res = await sendAlipay(t, { ...params, total_amount: '0.20', notify_id: 'n2' });
      expectProblem(res, 409, 'RECEIPT_CONFLICT');
      expect(res.text).not.toBe('success');
      const rows = await rowsOf('alipay', params.trade_no);
      expect(rows.map((r) => r.amount_minor)).toEqual(['10']);
    });

    it('a different buyer under the same trade_no is a conflict too', async () => {
      const params = alipayParams();
      await sendAlipay(t, params).expect(200);
      const res = await sendAlipay(t, { ...params, buyer_id: '2088000000000000' });
      expectProblem(res, 409, 'RECEIPT_CONFLICT');
    });

    describe('bad or missing signature → 401 RECEIPT_SIGNATURE_INVALID, no row', () => {
      const cases: [string, (p: Record<string, string>, key: string) => string][] = [
        [
          'amount changed after signing',
          (p, key) =>
            signAlipayNotification(p, key).replace('total_amount=0.10', 'total_amount=100.00'),
        ],
        [
          'buyer changed after signing',
          (p, key) =>
            signAlipayNotification(p, key).replace(`buyer_id=${p.buyer_id}`, 'buyer_id=2088999'),
        ],
        [
          'parameter added after signing',
          (p, key) => `${signAlipayNotification(p, key)}&gmt_refund=2026-11-24+10%3A00%3A00`,
        ],
        [
          'duplicated parameter',
          (p, key) => `${signAlipayNotification(p, key)}&total_amount=999.00`,
        ],
        [
          'signed with another key',
          (p) => signAlipayNotification(p, generateRsaKeyPair('intruder').privateKeyPem),
        ],
        [
          'no sign',
          (p, key) =>
            signAlipayNotification(p, key)
              .split('&')
              .filter((kv) => !kv.startsWith('sign='))
              .join('&'),
        ],
        [
          'sign_type RSA (SHA-1)',
          (p, key) => signAlipayNotification({ ...p, sign_type: 'RSA' }, key),
        ],
        [
          'garbage sign',
          (p) => new URLSearchParams({ ...p, sign: 'AAAA', sign_type: 'RSA2' }).toString(),
        ],
      ];
      it.each(cases)('%s', async (_why, make) => {
        const params = alipayParams({ total_amount: '0.10' });
        const res = await postAlipay(t, make(params, t.keys.alipay.privateKeyPem));
        expectProblem(res, 401, 'RECEIPT_SIGNATURE_INVALID');
        expect(await countOf('alipay', params.trade_no)).toBe(0);
      });
    });

    it.each(['TRADE_CLOSED', 'WAIT_BUYER_PAY'])(
      '%s → "success", no receipt',
      async (tradeStatus) => {
        const params = alipayParams({ trade_status: tradeStatus });
        const res = await sendAlipay(t, params).expect(200);
        expect(res.text).toBe('success');
        expect(await countOf('alipay', params.trade_no)).toBe(0);
      },
    );

    it('a JSON body → 415 UNSUPPORTED_MEDIA_TYPE problem, no row', async () => {
      const params = alipayParams();
      const signed = Object.fromEntries(
        new URLSearchParams(signAlipayNotification(params, t.keys.alipay.privateKeyPem)),
      );
      const res = await postAlipay(t, JSON.stringify(signed), 'application/json');
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await countOf('alipay', params.trade_no)).toBe(0);
      const plain = await postAlipay(
        t,
        signAlipayNotification(params, t.keys.alipay.privateKeyPem),
        'text/plain',
      );
      expect(plain.status).toBe(415);
      expect(await countOf('alipay', params.trade_no)).toBe(0);
    });

    it.each(['0.101', '-1.00', 'abc', '1e2', '1,000.00', ' 1.00', '0x10', '.5', '01.00', ''])(
      'well signed but total_amount "%s" → 400 VALIDATION_FAILED, no row',
      async (amount) => {
        const params = alipayParams({ total_amount: amount });
        const res = await sendAlipay(t, params);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(await countOf('alipay', params.trade_no)).toBe(0);
      },
    );

    it.each([
      ['no gmt_payment', { gmt_payment: '' }],
      ['gmt_payment not a date', { gmt_payment: '2026-02-30 10:00:00' }],
      ['gmt_payment in ISO form', { gmt_payment: '2026-11-23T18:15:00+08:00' }],
      ['no trade_status', { trade_status: '' }],
      ['no buyer', { buyer_id: '' }],
      ['no seller', { seller_id: '' }],
      ['a 65-character trade_no', { trade_no: '9'.repeat(65) }],
    ])('well signed but %s → 400, no row', async (_why, overrides) => {
      const params = alipayParams(overrides);
      const res = await sendAlipay(t, params);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      if (params.trade_no) expect(await countOf('alipay', params.trade_no)).toBe(0);
    });

    it('subject with %, &, +, = and CJK is stored exactly', async () => {
      const subject = '50% off & more + 咖啡 a=b %25 %ZZ';
      const params = alipayParams({ subject });
      const body = signAlipayNotification(params, t.keys.alipay.privateKeyPem);
      await postAlipay(t, body).expect(200, 'success');
      const [r] = await rowsOf('alipay', params.trade_no);
      expect(r.subject).toBe(subject);
      expect(r.raw_notification).toBe(body);
    });

    it('an unknown seller_id → receipt with merchantId, storeId and regionCode null', async () => {
      const params = alipayParams({ seller_id: '2088000000000404' });
      await sendAlipay(t, params).expect(200, 'success');
      const [r] = await rowsOf('alipay', params.trade_no);
      expect(r).toMatchObject({ merchant_id: null, store_id: null, region_code: null });
      const view = await t.http
        .get(`/v1/receipts/${r.id}`)
        .set(bearer(t.token({ role: 'admin' })))
        .expect(200);
      expect(view.body).toMatchObject({ merchantId: null, storeId: null, regionCode: null });
    });

    it('malformed form (a=%ZZ) → 400 VALIDATION_FAILED problem', async () => {
      const res = await postAlipay(t, 'a=%ZZ');
      expectProblem(res, 400, 'VALIDATION_FAILED');
      const signed = `${signAlipayNotification(alipayParams(), t.keys.alipay.privateKeyPem)}&x=%E4%ZZ`;
      expectProblem(await postAlipay(t, signed), 400, 'VALIDATION_FAILED');
    });

    it('a NUL character in a signed field is refused, never a 500', async () => {
      const params = alipayParams({ subject: 'tea\u0000cake' });
      expectProblem(await sendAlipay(t, params), 400, 'VALIDATION_FAILED');
      expect(await countOf('alipay', params.trade_no)).toBe(0);
    });
  });

  describe('POST /v1/receipts/wechatpay', () => {
    it('valid → 204 and one receipt resolved from mchid', async () => {
      const tx = wechatpayTransaction({ mchid: shop.account('wechatpay') });
      const n = wechatpayNotification(t, tx);
      const res = await postWechatpay(t, n).expect(204);
      expect(res.text).toBe('');
      const rows = await rowsOf('wechatpay', tx.transaction_id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        payer_id: `wechatpay:${tx.payer.openid}`,
        account_id: shop.account('wechatpay'),
        merchant_id: shop.merchant.id,
        store_id: shop.store.id,
        region_code: '330106',
        amount_minor: '3500',
        currency: 'CNY',
        subject: '西湖龙井 礼盒',
      });
      expect(rows[0].paid_at.toISOString()).toBe('2026-11-23T10:15:00.000Z');
      // Evidence: the signed body with the headers its signature covers.
      const raw = JSON.parse(rows[0].raw_notification);
      expect(raw.body).toBe(n.body);
      expect(raw.headers['wechatpay-signature']).toBe(n.headers['Wechatpay-Signature']);
    });

    it('re-delivery (new envelope, timestamp and nonce) → 204, still one row', async () => {
      const tx = wechatpayTransaction();
      await postWechatpay(t, wechatpayNotification(t, tx)).expect(204);
      await postWechatpay(
        t,
        wechatpayNotification(t, tx, { timestamp: Math.floor(Date.now() / 1000) - 60 }),
      ).expect(204);
      expect(await countOf('wechatpay', tx.transaction_id)).toBe(1);
    });

    it('same transaction_id, different amount → 409 with { code: FAIL }', async () => {
      const tx = wechatpayTransaction();
      await postWechatpay(t, wechatpayNotification(t, tx)).expect(204);
      const res = await postWechatpay(
        t,
        wechatpayNotification(t, { ...tx, amount: { total: 1, currency: 'CNY' } }),
      );
      expectWechatFailure(res, 409);
      const rows = await rowsOf('wechatpay', tx.transaction_id);
      expect(rows.map((r) => r.amount_minor)).toEqual(['3500']);
    });

    it.each([
      [
        'body changed after signing',
        (n: { headers: Record<string, string>; body: string }) => ({
          ...n,
          body: n.body.replace('TRANSACTION.SUCCESS', 'TRANSACTION.SUCCESS '),
        }),
      ],
      [
        'ciphertext swapped for another (validly encrypted) transaction',
        (n: { headers: Record<string, string>; body: string }, t2: TestApp) => {
          const other = wechatpayNotification(t2, wechatpayTransaction({ amount: { total: 1 } }));
          return { headers: n.headers, body: other.body };
        },
      ],
      [
        'nonce header changed',
        (n: { headers: Record<string, string>; body: string }) => ({
          ...n,
          headers: { ...n.headers, 'Wechatpay-Nonce': 'another-nonce' },
        }),
      ],
      [
        'no signature header',
        (n: { headers: Record<string, string>; body: string }) => {
          const headers = { ...n.headers };
          delete headers['Wechatpay-Signature'];
          return { ...n, headers };
        },
      ],
    ])('%s → 401 { code: FAIL }, no row', async (_why, tamper) => {
      const tx = wechatpayTransaction();
      const n = tamper(wechatpayNotification(t, tx), t);
      expectWechatFailure(await postWechatpay(t, n), 401);
      expect(await countOf('wechatpay', tx.transaction_id)).toBe(0);
    });

    it('signed with another platform key → 401 FAIL, no row', async () => {
      const tx = wechatpayTransaction();
      const n = buildWechatpayNotification({
        transaction: tx,
        apiV3Key: APIV3_KEY,
        privateKeyPem: generateRsaKeyPair('intruder').privateKeyPem,
      });
      expectWechatFailure(await postWechatpay(t, n), 401);
      expect(await countOf('wechatpay', tx.transaction_id)).toBe(0);
    });

    it.each(['NOTPAY', 'CLOSED', 'REFUND', 'PAYERROR'])(
      'trade_state %s → 204, no row',
      async (state) => {
        const tx = wechatpayTransaction({ trade_state: state });
        await postWechatpay(t, wechatpayNotification(t, tx)).expect(204);
        expect(await countOf('wechatpay', tx.transaction_id)).toBe(0);
      },
    );

    it('malformed JSON → 400 in WeChat Pay failure format', async () => {
      const n = wechatpayNotification(t, wechatpayTransaction());
      const res = await postWechatpay(t, { headers: n.headers, body: '{"id": "x", ' });
      expectWechatFailure(res, 400);
    });

    it('well signed JSON without a resource → 400 FAIL', async () => {
      const ts = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({ id: 'x', event_type: 'TRANSACTION.SUCCESS' });
      const signature = sign(
        'sha256',
        Buffer.from(`${ts}\nnonce1\n${body}\n`),
        t.keys.wechatpay.privateKeyPem,
      ).toString('base64');
      const res = await postWechatpay(t, {
        headers: {
          'Content-Type': 'application/json',
          'Wechatpay-Timestamp': String(ts),
          'Wechatpay-Nonce': 'nonce1',
          'Wechatpay-Signature': signature,
          'Wechatpay-Serial': 'X',
        },
        body,
      });
      expectWechatFailure(res, 400);
    });

    it('a well signed SUCCESS transaction with a float amount → 400 FAIL, no row', async () => {
      const tx = wechatpayTransaction({ amount: { total: 35.5, currency: 'CNY' } });
      expectWechatFailure(await postWechatpay(t, wechatpayNotification(t, tx)), 400);
      expect(await countOf('wechatpay', tx.transaction_id)).toBe(0);
    });

    it('a NUL character in the decrypted transaction → 400 FAIL, never a 500', async () => {
      const tx = wechatpayTransaction({ description: 'tea\u0000cake' });
      expectWechatFailure(await postWechatpay(t, wechatpayNotification(t, tx)), 400);
      expect(await countOf('wechatpay', tx.transaction_id)).toBe(0);
    });

    it('wrong content type and oversized bodies fail in WeChat Pay format too', async () => {
      const n = wechatpayNotification(t, wechatpayTransaction());
      const wrongType = await t.http
        .post('/v1/receipts/wechatpay')
        .set({ ...n.headers, 'Content-Type': 'text/plain' })
        .send(n.body);
      expectWechatFailure(wrongType, 415);
      const big = await t.http
        .post('/v1/receipts/wechatpay')
        .set(n.headers)
        .send(JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 1) }));
      expectWechatFailure(big, 413);
    });
  });

  describe('POST /v1/receipts (generic, HMAC-signed)', () => {
    it('201 with the new receipt; payer is <provider>:<payerId>; row as stored', async () => {
      const body = genericReceipt({ accountId: shop.account('sunmi-pos') });
      const raw = JSON.stringify(body);
      const res = await postGeneric(t, raw).expect(201);
      expect(Object.keys(res.body)).toEqual(expect.arrayContaining(RECEIPT_KEYS));
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        provider: 'sunmi-pos',
        tradeNo: body.tradeNo,
        payerId: `sunmi-pos:${body.payerId}`,
        accountId: shop.account('sunmi-pos'),
        merchantId: shop.merchant.id,
        storeId: shop.store.id,
        regionCode: '330106',
        amountMinor: 3500,
        currency: 'CNY',
        paidAt: '2026-11-23T10:15:00.000Z',
        subject: '龙井茶 250g',
        complaintId: null,
      });
      const [r] = await rowsOf('sunmi-pos', body.tradeNo as string);
      expect(r.id).toBe(res.body.id);
      expect(r.payer_id).toBe(`sunmi-pos:${body.payerId}`);
      expect(r.amount_minor).toBe('3500');
      expect(r.items).toEqual(body.items);
      expect(r.raw_notification).toBe(raw);
    });

    it('the same receipt again → 200 with the same id (also re-serialised), one row', async () => {
      const body = genericReceipt();
      const first = await postGeneric(t, body).expect(201);
      const again = await postGeneric(t, body).expect(200);
      expect(again.body.id).toBe(first.body.id);
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const pretty = await postGeneric(t, JSON.stringify(reordered, null, 2)).expect(200);
      expect(pretty.body.id).toBe(first.body.id);
      expect(await countOf('sunmi-pos', body.tradeNo as string)).toBe(1);
    });

    it.each([
      ['amount', { amountMinor: 3501 }],
      ['payer', { payerId: 'someone-else' }],
      ['paidAt', { paidAt: '2026-11-23T18:15:01+08:00' }],
      ['subject', { subject: '龙井茶 500g' }],
      ['items', { items: [] }],
    ])('a different %s under the same key → 409 RECEIPT_CONFLICT; row unchanged', async (_w, o) => {
      const body = genericReceipt();
      await postGeneric(t, body).expect(201);
      const res = await postGeneric(t, { ...body, ...o });
      expectProblem(res, 409, 'RECEIPT_CONFLICT');
      const rows = await rowsOf('sunmi-pos', body.tradeNo as string);
      expect(rows).toHaveLength(1);
      expect(rows[0].raw_notification).toBe(JSON.stringify(body));
    });

    it('the same tradeNo under another provider is another receipt', async () => {
      const body = genericReceipt();
      await postGeneric(t, body).expect(201);
      await postGeneric(t, { ...body, provider: 'other-pos' }).expect(201);
    });

    it.each([
      ['missing', () => null],
      ['signed with another secret', (raw: string) => signHmac(raw, 'not-the-secret')],
      ['for another body', (raw: string) => signHmac(`${raw} `, HMAC_SECRET)],
      ['not sha256=<hex>', (raw: string) => signHmac(raw, HMAC_SECRET).slice(7)],
      ['truncated', (raw: string) => signHmac(raw, HMAC_SECRET).slice(0, -2)],
      ['empty', () => ''],
    ])('signature %s → 401 RECEIPT_SIGNATURE_INVALID, no row', async (_why, sig) => {
      const body = genericReceipt();
      const raw = JSON.stringify(body);
      const res = await postGeneric(t, raw, sig(raw));
      expectProblem(res, 401, 'RECEIPT_SIGNATURE_INVALID');
      expect(await countOf('sunmi-pos', body.tradeNo as string)).toBe(0);
    });

    it('upper-case hex in the signature is accepted', async () => {
      const raw = JSON.stringify(genericReceipt());
      const sig = `sha256=${signHmac(raw, HMAC_SECRET).slice(7).toUpperCase()}`;
      await postGeneric(t, raw, sig).expect(201);
    });

    it.each([
      ['amountMinor 1.5', { amountMinor: 1.5 }, 'amountMinor'],
      ['amountMinor "100"', { amountMinor: '100' }, 'amountMinor'],
      ['amountMinor -1', { amountMinor: -1 }, 'amountMinor'],
      ['amountMinor 1e20', { amountMinor: 1e20 }, 'amountMinor'],
      ['amountMinor null', { amountMinor: null }, 'amountMinor'],
      ['an unknown field', { tip: 100 }, 'tip'],
      ['no tradeNo', { tradeNo: undefined }, 'tradeNo'],
      ['paidAt without an offset', { paidAt: '2026-11-23T18:15:00' }, 'paidAt'],
      ['currency in lower case', { currency: 'cny' }, 'currency'],
      ['provider with capitals', { provider: 'Sunmi' }, 'provider'],
      ['items not an array', { items: { a: 1 } }, 'items'],
    ])('%s → 400 VALIDATION_FAILED naming the field, no row', async (_why, o, field) => {
      const body = genericReceipt(o);
      const res = await postGeneric(t, body);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      if (typeof body.tradeNo === 'string') {
        expect(
          (
            await t.db.query('SELECT count(*)::int AS n FROM receipts WHERE trade_no = $1', [
              body.tradeNo,
            ])
          )[0].n,
        ).toBe(0);
      }
    });

    it.each([
      ['JSON null', 'null'],
      ['an array', '[]'],
      ['a string', '"receipt"'],
      ['an empty body', ''],
    ])('a signed body that is %s → 400, never 500', async (_why, raw) => {
      const res = await postGeneric(t, raw);
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('NUL characters or lone surrogates in text or items are refused, never a 500', async () => {
      for (const o of [
        { subject: 'a\u0000b' },
        { items: [{ name: 'a\u0000b' }] },
        { subject: 'a\ud800b' },
        { items: [{ name: 'tea \udc00' }] },
        { items: [{ ['k\ud83d']: 1 }] },
      ]) {
        const body = genericReceipt(o);
        const res = await postGeneric(t, body);
        expect({ o, status: res.status }).toEqual({ o, status: 400 });
        expect(await countOf('sunmi-pos', body.tradeNo as string)).toBe(0);
      }
    });

    it('an accountId that maps to no store → merchantId null', async () => {
      const res = await postGeneric(t, genericReceipt({ accountId: 'pos-nobody' })).expect(201);
      expect(res.body).toMatchObject({ merchantId: null, storeId: null, regionCode: null });
    });
  });

  describe('concurrent deliveries of one notification', () => {
    it('generic: 20 in parallel → exactly one row, one 201 and nineteen 200 with the same id', async () => {
      const raw = JSON.stringify(genericReceipt({ accountId: shop.account('sunmi-pos') }));
      const { tradeNo } = JSON.parse(raw);
      const results = await Promise.all(Array.from({ length: 20 }, () => postGeneric(t, raw)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(19);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(await countOf('sunmi-pos', tradeNo)).toBe(1);
    });

    it('alipay: 20 in parallel → all "success", exactly one row', async () => {
      const params = alipayParams({ seller_id: shop.account('alipay') });
      const body = signAlipayNotification(params, t.keys.alipay.privateKeyPem);
      const results = await Promise.all(Array.from({ length: 20 }, () => postAlipay(t, body)));
      expect(results.map((r) => `${r.status} ${r.text}`)).toEqual(
        Array.from({ length: 20 }, () => '200 success'),
      );
      expect(await countOf('alipay', params.trade_no)).toBe(1);
    });

    it('wechatpay: 20 in parallel → all 204, exactly one row', async () => {
      const tx = wechatpayTransaction();
      const n = wechatpayNotification(t, tx);
      const results = await Promise.all(Array.from({ length: 20 }, () => postWechatpay(t, n)));
      expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 204));
      expect(await countOf('wechatpay', tx.transaction_id)).toBe(1);
    });
  });

  describe('POST /v1/receipts/batch (NDJSON)', () => {
    it('10,000 lines in one request → all created, by COPY and INSERT per chunk of lines', async () => {
      const prefix = uniqueTradeNo('B');
      const lines = Array.from({ length: 10_000 }, (_, i) =>
        JSON.stringify(
          genericReceipt({
            tradeNo: `${prefix}-${i}`,
            payerId: `bulk${i % 7}`,
            accountId: shop.account('sunmi-pos'),
            amountMinor: i,
            items: undefined,
          }),
        ),
      );
      const body = lines.join('\n') + '\n';
      // Larger than the 1 MB limit of ordinary bodies: the batch route has its own.
      expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);

      // Every statement of every pg client (the pool's, and the one the import takes).
      const spy = jest.spyOn(PgClient.prototype, 'query');
      let res;
      let calls: unknown[][];
      try {
        res = await postBatch(t, body);
      } finally {
        // mockRestore() also clears the recorded calls: keep them first.
        calls = [...spy.mock.calls];
        spy.mockRestore();
      }
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ created: 10_000, duplicates: 0, rejected: [] });
      const texts = calls.map(([q]) =>
        typeof q === 'string' ? q : String((q as { text?: string }).text ?? ''),
      );
      // One COPY into staging and one INSERT from it per chunk of lines, not per line.
      const chunks = Math.ceil(10_000 / BATCH_CHUNK_LINES);
      expect(texts.filter((q) => /^\s*COPY\b/i.test(q))).toHaveLength(chunks);
      expect(texts.filter((q) => /\bINSERT\s+INTO\s+receipts\b/i.test(q))).toHaveLength(chunks);
      expect(calls.length).toBeLessThan(3 * chunks + 10);

      const [{ n, total, accounts }] = await t.db.query(
        `SELECT count(*)::int AS n, sum(amount_minor)::text AS total,
                count(*) FILTER (WHERE merchant_id = $2)::int AS accounts
           FROM receipts WHERE provider = 'sunmi-pos' AND trade_no LIKE $1`,
        [`${prefix}-%`, shop.merchant.id],
      );
      expect(n).toBe(10_000);
      expect(total).toBe(String((9_999 * 10_000) / 2));
      expect(accounts).toBe(10_000);
      const [sample] = await rowsOf('sunmi-pos', `${prefix}-4242`);
      expect(sample).toMatchObject({
        payer_id: 'sunmi-pos:bulk' + (4242 % 7),
        amount_minor: '4242',
        raw_notification: lines[4242],
        store_id: shop.store.id,
      });
    });

    it('bad lines are reported by number and code; good ones stored; duplicates counted', async () => {
      const stored = genericReceipt();
      await postGeneric(t, stored).expect(201);
      const storedAgain = JSON.stringify(stored);
      const a = genericReceipt();
      const b = genericReceipt();
      const c = genericReceipt();
      const body = [
        /* 1 */ JSON.stringify(a),
        /* 2 */ '{"provider": "sunmi-pos", ',
        /* 3 */ JSON.stringify(b),
        /* 4 */ JSON.stringify(genericReceipt({ amountMinor: 1.5 })),
        /* 5 */ '',
        /* 6 */ JSON.stringify(c),
        /* 7 */ storedAgain,
        /* 8 */ JSON.stringify({ ...stored, amountMinor: 1 }),
        /* 9 */ JSON.stringify(a),
        /* 10 */ JSON.stringify({ ...b, subject: 'changed' }),
        /* 11 */ JSON.stringify(genericReceipt({ extra: true })),
        /* 12 */ JSON.stringify(genericReceipt({ amountMinor: '100' })),
        /* 13 */ '[1, 2, 3]',
        /* 14 */ JSON.stringify(genericReceipt({ items: [{ name: 'nul\u0000' }] })),
      ].join('\n');
      const res = await postBatch(t, body).expect(200);
      expect(res.body.created).toBe(3);
      expect(res.body.duplicates).toBe(2);
      expect(
        res.body.rejected.map((r: { line: number; code: string }) => [r.line, r.code]),
      ).toEqual([
        [2, 'VALIDATION_FAILED'],
        [4, 'VALIDATION_FAILED'],
        [8, 'RECEIPT_CONFLICT'],
        [10, 'RECEIPT_CONFLICT'],
        [11, 'VALIDATION_FAILED'],
        [12, 'VALIDATION_FAILED'],
        [13, 'VALIDATION_FAILED'],
        [14, 'VALIDATION_FAILED'],
      ]);
      for (const r of [a, b, c]) expect(await countOf('sunmi-pos', r.tradeNo as string)).toBe(1);
      const [bRow] = await rowsOf('sunmi-pos', b.tradeNo as string);
      expect(bRow.subject).toBe(b.subject);
      expect(bRow.raw_notification).toBe(JSON.stringify(b));
      const [storedRow] = await rowsOf('sunmi-pos', stored.tradeNo as string);
      expect(storedRow.amount_minor).toBe('3500');
    });

    it('CRLF line endings and a trailing newline are fine; the stored line has no CR', async () => {
      const a = genericReceipt();
      const b = genericReceipt();
      const body = `${JSON.stringify(a)}\r\n${JSON.stringify(b)}\r\n`;
      const res = await postBatch(t, body).expect(200);
      expect(res.body).toEqual({ created: 2, duplicates: 0, rejected: [] });
      const [row] = await rowsOf('sunmi-pos', a.tradeNo as string);
      expect(row.raw_notification).toBe(JSON.stringify(a));
    });

    it('re-sending a whole batch → all duplicates, nothing new', async () => {
      const items = [genericReceipt(), genericReceipt()];
      const body = items.map((r) => JSON.stringify(r)).join('\n');
      await postBatch(t, body).expect(200, { created: 2, duplicates: 0, rejected: [] });
      await postBatch(t, body).expect(200, { created: 0, duplicates: 2, rejected: [] });
    });

    it('raw lines with tab, CR, backslashes, escapes, quotes, %, &, \\N and non-BMP characters round-trip byte for byte', async () => {
      const tricky =
        'tab\there \\ back\\slash "quoted" 50% & more \\N \\. 𠮷野家 😀🀄 龙井\nline2\r\u0001';
      const r = genericReceipt({
        tradeNo: `${uniqueTradeNo('ESC')}\t\\x`,
        payerId: 'p\\\t😀',
        subject: tricky,
        items: [{ name: tricky, 'k\\ey\t': '𠮷' }],
      });
      const json = JSON.stringify(r);
      // Literal tabs and a CR between tokens (JSON whitespace) stay in the raw line too.
      const line = json
        .replace('{"provider"', '{\t"provider"')
        .replace(',"tradeNo"', ',\r\t"tradeNo"');
      expect(JSON.parse(line)).toEqual(r);
      const plain = genericReceipt({ subject: '\\' });
      const body = `${line}\n${JSON.stringify(plain)}\n`;
      const res = await postBatch(t, body).expect(200);
      expect(res.body).toEqual({ created: 2, duplicates: 0, rejected: [] });

      const [row] = await rowsOf('sunmi-pos', r.tradeNo as string);
      expect(row.raw_notification).toBe(line);
      expect(Buffer.from(row.raw_notification)).toEqual(Buffer.from(line));
      expect(row).toMatchObject({
        trade_no: r.tradeNo,
        payer_id: `sunmi-pos:${r.payerId as string}`,
        subject: tricky,
        items: r.items,
        raw_content_type: 'application/x-ndjson',
      });
      const [plainRow] = await rowsOf('sunmi-pos', plain.tradeNo as string);
      expect(plainRow.subject).toBe('\\');
      expect(plainRow.raw_notification).toBe(JSON.stringify(plain));
      // Stored facts = the facts fingerprinted: the same receipt again is a duplicate, by batch
      // and by the single route.
      await postBatch(t, body).expect(200, { created: 0, duplicates: 2, rejected: [] });
      const again = await postGeneric(t, JSON.stringify(r)).expect(200);
      expect(again.body.id).toBe(row.id);
    });

    it('a tradeNo repeated within one request: first line wins; same payload → duplicate, other payload → conflict (also across chunks)', async () => {
      const a = genericReceipt();
      const b = genericReceipt();
      const filler = Array.from({ length: 2_500 }, () => JSON.stringify(genericReceipt()));
      const lines = [
        /* 1 */ JSON.stringify(a),
        /* 2 */ JSON.stringify(a),
        /* 3 */ JSON.stringify({ ...a, amountMinor: 1 }),
        /* 4 */ JSON.stringify(b),
        // Same facts, other bytes (key order, spacing): still the same receipt.
        /* 5 */ JSON.stringify(Object.fromEntries(Object.entries(b).reverse()), null, 1).replace(
          /\n/g,
          '',
        ),
        /* 6 */ JSON.stringify({ ...b, subject: 'other' }),
        ...filler, // 7 … 2,506: the repeats below land in a later chunk than their first line
        /* 2,507 */ JSON.stringify(a),
        /* 2,508 */ JSON.stringify({ ...a, payerId: 'someone-else' }),
      ];
      const res = await postBatch(t, lines.join('\n')).expect(200);
      expect(res.body).toEqual({
        created: 2 + filler.length,
        duplicates: 3,
        rejected: [
          { line: 3, code: 'RECEIPT_CONFLICT' },
          { line: 6, code: 'RECEIPT_CONFLICT' },
          { line: 2_508, code: 'RECEIPT_CONFLICT' },
        ],
      });
      const [aRow] = await rowsOf('sunmi-pos', a.tradeNo as string);
      expect(aRow.raw_notification).toBe(lines[0]);
      expect(Number(aRow.amount_minor)).toBe(3500);
      const [bRow] = await rowsOf('sunmi-pos', b.tradeNo as string);
      expect(bRow.raw_notification).toBe(lines[3]);
      expect(await countOf('sunmi-pos', b.tradeNo as string)).toBe(1);
    });

    it('new, duplicate, conflicting and invalid lines mixed over several chunks: each reported by its number', async () => {
      const old = Array.from({ length: 3 }, () => genericReceipt());
      await postBatch(t, old.map((r) => JSON.stringify(r)).join('\n')).expect(200, {
        created: 3,
        duplicates: 0,
        rejected: [],
      });
      const fresh = Array.from({ length: 4_500 }, () => genericReceipt());
      const lines = fresh.map((r) => JSON.stringify(r));
      const special: Record<number, string> = {
        10: JSON.stringify(old[0]), // duplicate of a stored receipt
        1_999: JSON.stringify({ ...old[1], amountMinor: 1 }), // conflict with a stored receipt
        2_001: '{"provider": ', // invalid JSON
        2_500: JSON.stringify(old[2]), // duplicate
        3_000: JSON.stringify({ ...old[2], subject: 'changed' }), // conflict
        4_001: JSON.stringify({ ...fresh[0], currency: 'USD' }), // conflict with line 1, same body
        4_002: JSON.stringify(fresh[1]), // duplicate of line 2, same body
        4_003: JSON.stringify(genericReceipt({ amountMinor: -1 })), // invalid
      };
      for (const [n, text] of Object.entries(special)) lines[Number(n) - 1] = text;
      const res = await postBatch(t, lines.join('\n')).expect(200);
      expect(
        res.body.rejected.map((r: { line: number; code: string }) => [r.line, r.code]),
      ).toEqual([
        [1_999, 'RECEIPT_CONFLICT'],
        [2_001, 'VALIDATION_FAILED'],
        [3_000, 'RECEIPT_CONFLICT'],
        [4_001, 'RECEIPT_CONFLICT'],
        [4_003, 'VALIDATION_FAILED'],
      ]);
      expect(res.body.duplicates).toBe(3);
      expect(res.body.created).toBe(4_500 - 8);
      for (const r of old) {
        const [row] = await rowsOf('sunmi-pos', r.tradeNo as string);
        expect(row.raw_notification).toBe(JSON.stringify(r));
      }
      const [first] = await rowsOf('sunmi-pos', fresh[0].tradeNo as string);
      expect(first.currency).toBe('CNY');
      expect(await countOf('sunmi-pos', fresh[4_499].tradeNo as string)).toBe(1);
    });

    describe('a batch that fails is stored not at all', () => {
      const countLike = async (prefix: string): Promise<number> =>
        (
          await t.db.query(
            `SELECT count(*)::int AS n FROM receipts WHERE provider = 'sunmi-pos' AND trade_no LIKE $1`,
            [`${prefix}%`],
          )
        )[0].n;
      const bodyOf = (
        prefix: string,
        n: number,
        accountOf = (_i: number) => shop.account('sunmi-pos'),
      ) =>
        Array.from({ length: n }, (_, i) =>
          JSON.stringify(genericReceipt({ tradeNo: `${prefix}-${i}`, accountId: accountOf(i) })),
        ).join('\n');

      it('a database error in the INSERT of the third chunk (two already inserted) → 500, no receipt of the batch; the next batch works', async () => {
        const prefix = uniqueTradeNo('FAIL');
        await t.db
          .query(`CREATE FUNCTION test_fail_${prefix}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.trade_no = '${prefix}-4321' THEN RAISE EXCEPTION 'injected failure'; END IF;
            RETURN NEW;
          END $$`);
        await t.db.query(`CREATE TRIGGER test_fail_${prefix} BEFORE INSERT ON receipts
          FOR EACH ROW EXECUTE FUNCTION test_fail_${prefix}()`);
        try {
          const res = await postBatch(t, bodyOf(prefix, 5_000));
          expect(res.status).toBe(500);
        } finally {
          await t.db.query(`DROP TRIGGER test_fail_${prefix} ON receipts`);
          await t.db.query(`DROP FUNCTION test_fail_${prefix}()`);
        }
        expect(await countLike(prefix)).toBe(0);
        const next = uniqueTradeNo('AFTER');
        await postBatch(t, bodyOf(next, 3)).expect(200, {
          created: 3,
          duplicates: 0,
          rejected: [],
        });
      });

      it('a line with a lone surrogate in items is rejected by number, the others stored (never a 500)', async () => {
        const prefix = uniqueTradeNo('SUR');
        const lines = Array.from({ length: 6_000 }, (_, i) =>
          JSON.stringify(
            genericReceipt({
              tradeNo: `${prefix}-${i}`,
              items: i === 4_500 ? [{ name: '\ud800' }] : [],
            }),
          ),
        );
        const res = await postBatch(t, lines.join('\n')).expect(200);
        expect(res.body.rejected).toEqual([
          expect.objectContaining({ line: 4_501, code: 'VALIDATION_FAILED' }),
        ]);
        expect(await countLike(prefix)).toBe(5_999);
        const results = await Promise.all(
          Array.from({ length: 25 }, (_, k) =>
            postBatch(t, bodyOf(uniqueTradeNo(`NEXT${k}`), 2)).then((r) => r.status),
          ),
        );
        expect(results).toEqual(Array(25).fill(200));
      });

      it('two batches sharing keys in opposite order, in parallel → both answered, no deadlock, each key stored once', async () => {
        const prefix = uniqueTradeNo('CROSS');
        const lines = Array.from({ length: 3 * BATCH_CHUNK_LINES }, (_, i) =>
          JSON.stringify(genericReceipt({ tradeNo: `${prefix}-${i}` })),
        );
        const [a, b] = await Promise.all([
          postBatch(t, lines.join('\n')),
          postBatch(t, [...lines].reverse().join('\n')),
        ]);
        expect([a.status, b.status]).toEqual([200, 200]);
        expect(a.body.created + b.body.created).toBe(lines.length);
        expect(a.body.duplicates + b.body.duplicates).toBe(lines.length);
        expect([...a.body.rejected, ...b.body.rejected]).toEqual([]);
        expect(await countLike(prefix)).toBe(lines.length);
      });

      it('a failure midway through the COPY (after a first chunk was sent) → 500, no receipt; connections stay usable', async () => {
        const prefix = uniqueTradeNo('MID');
        const directory = t.app.get(DirectoryService);
        const real = directory.resolveAccounts.bind(directory);
        let calls = 0;
        const spy = jest.spyOn(directory, 'resolveAccounts').mockImplementation(async (...args) => {
          calls++;
          if (calls === 2) throw new Error('directory unavailable');
          return real(...args); // on the batch's connection, as the real call
        });
        try {
          // A new payee account in the second chunk makes the import look it up there.
          const body = bodyOf(prefix, 4_000, (i) =>
            i < 2_500 ? shop.account('sunmi-pos') : 'unknown-account',
          );
          const res = await postBatch(t, body);
          expect(res.status).toBe(500);
          expect(calls).toBe(2);
        } finally {
          spy.mockRestore();
        }
        expect(await countLike(prefix)).toBe(0);
        // Every pooled connection (20) is still fine: more batches than connections.
        for (let i = 0; i < 3; i++) {
          const results = await Promise.all(
            Array.from({ length: 8 }, (_, k) =>
              postBatch(t, bodyOf(uniqueTradeNo(`OK${i}${k}`), 2)).then((r) => r.status),
            ),
          );
          expect(results).toEqual(Array(8).fill(200));
        }
      });
    });

    it.each([
      ['a bad signature', (raw: string) => signHmac(raw, 'not-the-secret')],
      ['no signature', () => null],
      ['a signature of another body', (raw: string) => signHmac(raw.slice(1), HMAC_SECRET)],
    ])('%s → 401 RECEIPT_SIGNATURE_INVALID and no rows', async (_why, sig) => {
      const items = [genericReceipt(), genericReceipt()];
      const body = items.map((r) => JSON.stringify(r)).join('\n');
      const res = await postBatch(t, body, sig(body));
      expectProblem(res, 401, 'RECEIPT_SIGNATURE_INVALID');
      for (const r of items) expect(await countOf('sunmi-pos', r.tradeNo as string)).toBe(0);
    });

    it('application/json → 415 problem, no rows', async () => {
      const item = genericReceipt();
      const raw = JSON.stringify(item);
      const res = await t.http
        .post('/v1/receipts/batch')
        .set('content-type', 'application/json')
        .set('x-hejie-signature', signHmac(raw, HMAC_SECRET))
        .send(raw);
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(await countOf('sunmi-pos', item.tradeNo as string)).toBe(0);
    });
  });

  describe('body limits and malformed bodies', () => {
    it('a JSON body over 1 MB to POST /v1/receipts → 413 PAYLOAD_TOO_LARGE problem, no row', async () => {
      const body = genericReceipt({ subject: 'x'.repeat(1024 * 1024) });
      const res = await postGeneric(t, body);
      expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(await countOf('sunmi-pos', body.tradeNo as string)).toBe(0);
    });

    it('a form body over 1 MB to alipay → 413 PAYLOAD_TOO_LARGE problem', async () => {
      const params = alipayParams({ body: 'x'.repeat(1024 * 1024) });
      const res = await sendAlipay(t, params);
      expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(await countOf('alipay', params.trade_no)).toBe(0);
    });

    it('malformed JSON → 400 VALIDATION_FAILED problem (application/problem+json)', async () => {
      const raw = '{"provider": "sunmi-pos", "tradeNo": ';
      const res = await postGeneric(t, raw);
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('no route ever answers 500 to junk', async () => {
      const routes = [
        '/v1/receipts',
        '/v1/receipts/alipay',
        '/v1/receipts/wechatpay',
        '/v1/receipts/batch',
      ];
      const junk: [string | undefined, string][] = [
        [undefined, ''],
        ['application/json', ''],
        ['application/json', 'null'],
        ['application/json', '[]'],
        ['application/json', '{}'],
        ['application/json', '{"resource": {"algorithm": "AEAD_AES_256_GCM"}}'],
        ['application/json', '\u0000'],
        ['application/json; charset=utf-8', '{"a":'],
        ['application/x-www-form-urlencoded', ''],
        ['application/x-www-form-urlencoded', 'sign=%%%&sign_type=RSA2'],
        ['application/x-www-form-urlencoded', 'sign=abc&sign_type=RSA2&trade_no=1'],
        ['application/x-www-form-urlencoded', '&&&==&'],
        ['application/x-ndjson', 'garbage\n{}'],
        ['text/plain', 'hello'],
        ['multipart/form-data; boundary=x', '--x--'],
        ['application/octet-stream', '\u00ff\u00fe'],
      ];
      const headerSets: Record<string, string>[] = [
        {},
        { 'x-hejie-signature': 'sha256=' + '0'.repeat(64) },
        { 'x-hejie-signature': ['a', 'b'].join(',') },
        {
          'wechatpay-timestamp': String(Math.floor(Date.now() / 1000)),
          'wechatpay-nonce': 'n',
          'wechatpay-signature': '!!!',
          'wechatpay-serial': 's',
        },
        {
          'wechatpay-timestamp': '1e3',
          'wechatpay-nonce': '',
          'wechatpay-signature': 'AAAA',
        },
      ];
      const failures: string[] = [];
      for (const route of routes) {
        for (const [ct, body] of junk) {
          for (const headers of headerSets) {
            const req = t.http.post(route).set(headers);
            if (ct) req.set('content-type', ct);
            const res = await req.send(body);
            if (res.status >= 500) failures.push(`${route} ${ct} ${JSON.stringify(body)}`);
          }
        }
      }
      // Signed junk gets through the signature check: still no 500.
      for (const raw of ['null', '[]', '{}', '"x"', '1', 'true', '{"provider":{}}']) {
        const res = await postGeneric(t, raw);
        if (res.status >= 500) failures.push(`generic signed ${raw}`);
        const batch = await postBatch(t, raw);
        if (batch.status >= 500) failures.push(`batch signed ${raw}`);
      }
      expect(failures).toEqual([]);
    });
  });

  describe('GET /v1/receipts', () => {
    const payer = `p${randomUUID().slice(0, 8)}`;
    const other = `p${randomUUID().slice(0, 8)}`;
    const sub = `sunmi-pos:${payer}`;
    const consumer = () => bearer(t.token({ role: 'consumer', sub }));
    // Posted out of order; two share a payment time (ties break on id).
    const paidAts = [
      '2026-11-20T09:00:00+08:00',
      '2026-11-23T18:15:00+08:00',
      '2026-11-21T12:00:00+08:00',
      '2026-11-21T12:00:00+08:00',
      '2026-11-22T08:30:00.123+08:00',
    ];
    const ids: string[] = [];
    let othersId = '';

    beforeAll(async () => {
      for (const paidAt of paidAts) {
        const res = await postGeneric(t, genericReceipt({ payerId: payer, paidAt })).expect(201);
        ids.push(res.body.id);
      }
      othersId = (await postGeneric(t, genericReceipt({ payerId: other })).expect(201)).body.id;
    });

    it('a consumer sees only their own receipts, newest payment first, each with complaintId null', async () => {
      const res = await t.http.get('/v1/receipts').set(consumer()).expect(200);
      expect(res.body.nextCursor).toBeNull();
      const items = res.body.items as Record<string, unknown>[];
      expect(items).toHaveLength(5);
      expect(items.map((r) => r.id)).not.toContain(othersId);
      for (const r of items) {
        expect(Object.keys(r)).toEqual(expect.arrayContaining(RECEIPT_KEYS));
        expect(r.payerId).toBe(sub);
        expect(r.complaintId).toBeNull();
      }
      const times = items.map((r) => Date.parse(r.paidAt as string));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(items[0].id).toBe(ids[1]);
      expect(items[4].id).toBe(ids[0]);
      expect(new Set(items.map((r) => r.id))).toEqual(new Set(ids));
    });

    it('pages with limit=2 and the cursor: every receipt once, in order, nextCursor null at the end', async () => {
      const full = (await t.http.get('/v1/receipts').set(consumer()).expect(200)).body.items.map(
        (r: { id: string }) => r.id,
      );
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const res: Response = await t.http
          .get('/v1/receipts')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(consumer())
          .expect(200);
        sizes.push(res.body.items.length);
        seen.push(...res.body.items.map((r: { id: string }) => r.id));
        cursor = res.body.nextCursor;
      } while (cursor !== null && sizes.length < 10);
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(full);
    });

    it('a receipt paid earlier and stored between pages appears once, in its place', async () => {
      const p = `p${randomUUID().slice(0, 8)}`;
      const auth = bearer(t.token({ role: 'consumer', sub: `sunmi-pos:${p}` }));
      const post = (paidAt: string) =>
        postGeneric(t, genericReceipt({ payerId: p, paidAt })).expect(201);
      const newest = (await post('2026-11-23T10:00:00Z')).body.id;
      const mid = (await post('2026-11-22T10:00:00Z')).body.id;
      const oldest = (await post('2026-11-20T10:00:00Z')).body.id;
      const page1 = await t.http.get('/v1/receipts').query({ limit: 2 }).set(auth).expect(200);
      expect(page1.body.items.map((r: { id: string }) => r.id)).toEqual([newest, mid]);
      const late = (await post('2026-11-21T10:00:00Z')).body.id;
      const page2 = await t.http
        .get('/v1/receipts')
        .query({ limit: 2, cursor: page1.body.nextCursor })
        .set(auth)
        .expect(200);
      expect(page2.body.items.map((r: { id: string }) => r.id)).toEqual([late, oldest]);
    });

    it('a consumer with no receipts gets an empty page', async () => {
      const res = await t.http
        .get('/v1/receipts')
        .set(bearer(t.token({ role: 'consumer', sub: 'alipay:2088000000009999' })))
        .expect(200);
      expect(res.body).toEqual({ items: [], nextCursor: null });
    });

    it.each([
      ['limit=0', { limit: '0' }],
      ['limit=101', { limit: '101' }],
      ['limit=x', { limit: 'x' }],
      ['a garbage cursor', { cursor: '%%%' }],
      ['a cursor of the wrong arity', { cursor: cursorOf([1, 2, 3]) }],
      ['a cursor with a bad time', { cursor: cursorOf(['tomorrow', randomUUID()]) }],
      ['a cursor with a bad id', { cursor: cursorOf(['2026-11-23T10:15:00.000Z', 'nope']) }],
      ['a cursor of numbers', { cursor: cursorOf([1, 2]) }],
      ['an unknown parameter', { status: 'open' }],
    ])('%s → 400 VALIDATION_FAILED problem', async (_why, query) => {
      const res = await t.http.get('/v1/receipts').query(query).set(consumer());
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('roles: merchant and regulator may not list consumers’ bills (403); no token → 401', async () => {
      await t.http
        .get('/v1/receipts')
        .set(bearer(t.token({ role: 'merchant', merchantId: shop.merchant.id })))
        .expect(403);
      await t.http
        .get('/v1/receipts')
        .set(bearer(t.token({ role: 'regulator', officeId: randomUUID() })))
        .expect(403);
      expectProblem(await t.http.get('/v1/receipts'), 401, 'UNAUTHENTICATED');
    });

    describe('GET /v1/receipts/:id', () => {
      it('own receipt → 200 with the receipt shape', async () => {
        const res = await t.http.get(`/v1/receipts/${ids[1]}`).set(consumer()).expect(200);
        expect(Object.keys(res.body)).toEqual(expect.arrayContaining(RECEIPT_KEYS));
        expect(res.body).toMatchObject({
          id: ids[1],
          payerId: sub,
          paidAt: '2026-11-23T10:15:00.000Z',
          complaintId: null,
        });
      });

      it("another consumer's receipt → 404 NOT_FOUND (no existence leak)", async () => {
        const res = await t.http.get(`/v1/receipts/${othersId}`).set(consumer());
        expectProblem(res, 404, 'NOT_FOUND');
        const unknown = await t.http.get(`/v1/receipts/${randomUUID()}`).set(consumer());
        expectProblem(unknown, 404, 'NOT_FOUND');
        expect(unknown.body.detail.replace(/[0-9a-f-]{36}/g, '')).toBe(
          res.body.detail.replace(/[0-9a-f-]{36}/g, ''),
        );
      });

      it('admin → 200', async () => {
        const res = await t.http
          .get(`/v1/receipts/${othersId}`)
          .set(bearer(t.token({ role: 'admin' })))
          .expect(200);
        expect(res.body.id).toBe(othersId);
      });

      it('merchant role → 403 FORBIDDEN, even for its own store’s receipt', async () => {
        const own = await postGeneric(
          t,
          genericReceipt({ accountId: shop.account('sunmi-pos') }),
        ).expect(201);
        const res = await t.http
          .get(`/v1/receipts/${own.body.id}`)
          .set(bearer(t.token({ role: 'merchant', merchantId: shop.merchant.id })));
        expectProblem(res, 403, 'FORBIDDEN');
      });

      it('non-uuid id → 404, never 500; no token → 401', async () => {
        for (const id of ['abc', '123', 'null', `${ids[0]}x`]) {
          const res = await t.http.get(`/v1/receipts/${id}`).set(consumer());
          expectProblem(res, 404, 'NOT_FOUND');
        }
        expectProblem(await t.http.get(`/v1/receipts/${ids[0]}`), 401, 'UNAUTHENTICATED');
      });
    });
  });
});

describe('receipt routes with no provider configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      ALIPAY_PUBLIC_KEY: undefined,
      RECEIPT_HMAC_SECRET: undefined,
      WECHATPAY_APIV3_KEY: undefined,
    });
  });
  afterAll(() => t.close());

  it('alipay → 503 PROVIDER_NOT_CONFIGURED, no row', async () => {
    const params = alipayParams();
    const res = await sendAlipay(t, params);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 503, code: 'PROVIDER_NOT_CONFIGURED' });
    const rows = await t.db.query('SELECT 1 FROM receipts WHERE trade_no = $1', [params.trade_no]);
    expect(rows).toHaveLength(0);
  });

  it('wechatpay → 503 in WeChat Pay failure format, reason PROVIDER_NOT_CONFIGURED', async () => {
    const tx = wechatpayTransaction();
    const res = await postWechatpay(t, wechatpayNotification(t, tx));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      code: 'FAIL',
      message: expect.any(String),
      reason: 'PROVIDER_NOT_CONFIGURED',
    });
  });

  it('generic → 503 PROVIDER_NOT_CONFIGURED, whatever the signature', async () => {
    for (const sig of [undefined, null, 'sha256=' + 'a'.repeat(64)]) {
      const res = await postGeneric(t, genericReceipt(), sig);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 503, code: 'PROVIDER_NOT_CONFIGURED' });
    }
  });

  it('batch → 503 PROVIDER_NOT_CONFIGURED', async () => {
    const res = await postBatch(t, JSON.stringify(genericReceipt()));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 503, code: 'PROVIDER_NOT_CONFIGURED' });
  });

  it('the rest of the API still works', async () => {
    await t.http.get('/health').expect(200);
    await t.http
      .get('/v1/receipts')
      .set(bearer(t.token({ role: 'consumer', sub: 'alipay:1' })))
      .expect(200);
  });
});

describe('batch body limit (BATCH_BODY_LIMIT_BYTES)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ BATCH_BODY_LIMIT_BYTES: '4096' });
  });
  afterAll(async () => {
    await t.close();
    delete process.env.BATCH_BODY_LIMIT_BYTES;
  });

  const bodyOf = (bytes: number): { body: string; items: Record<string, unknown>[] } => {
    const items: Record<string, unknown>[] = [];
    let body = '';
    for (;;) {
      const r = genericReceipt({ items: undefined });
      const line = `${JSON.stringify(r)}\n`;
      if (Buffer.byteLength(body + line) > bytes) break;
      items.push(r);
      body += line;
    }
    // Blank lines (skipped by the import) up to the exact size in bytes.
    return { body: body + '\n'.repeat(bytes - Buffer.byteLength(body)), items };
  };

  it('a body at the limit is read whole and stored; one byte more → 413 PAYLOAD_TOO_LARGE, no rows', async () => {
    const ok = bodyOf(4096);
    expect(Buffer.byteLength(ok.body)).toBe(4096);
    const res = await postBatch(t, ok.body).expect(200);
    expect(res.body).toEqual({ created: ok.items.length, duplicates: 0, rejected: [] });

    const over = bodyOf(4097);
    const tooLarge = await postBatch(t, over.body);
    expect({ status: tooLarge.status, code: tooLarge.body.code }).toEqual({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    const [{ n }] = await t.db.query(
      `SELECT count(*)::int AS n FROM receipts WHERE provider = 'sunmi-pos' AND trade_no = ANY($1)`,
      [over.items.map((r) => r.tradeNo)],
    );
    expect(n).toBe(0);
  });
});

/*
 * WeChat Pay's freshness window (5 minutes either way) is counted on the domain clock (CLOCK),
 * the one deadlines are counted on, not on the host's. The test clock stands an hour ahead of
 * the wall clock on a whole second, so each skew is exact. (Stamped from the wall clock, "301 s
 * in the future" reached the API 300.x s ahead when the request took longer than the second's
 * fraction, and was accepted: a flake under load.)
 */
describe('WeChat Pay timestamps, on the domain clock', () => {
  const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({}, { clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Seconds of the domain clock, plus `skew`. */
  const stamp = (skew: number) => clock.now().getTime() / 1000 + skew;
  const countOf = async (tradeNo: string): Promise<number> =>
    (
      await t.db.query(`SELECT 1 FROM receipts WHERE provider = 'wechatpay' AND trade_no = $1`, [
        tradeNo,
      ])
    ).length;

  it.each([
    ['301 s old', -301],
    ['10 minutes old', -600],
    ['301 s in the future', 301],
  ])('a timestamp %s → 401 { code: FAIL, message }, no row', async (_why, skew) => {
    const tx = wechatpayTransaction();
    const n = wechatpayNotification(t, tx, { timestamp: stamp(skew) });
    expectWechatFailure(await postWechatpay(t, n), 401);
    expect(await countOf(tx.transaction_id)).toBe(0);
  });

  it.each([
    ['300 s old', -300],
    ['4 minutes old', -240],
    ['300 s in the future', 300],
  ])('a timestamp %s is still fresh → 204, one row', async (_why, skew) => {
    const tx = wechatpayTransaction();
    await postWechatpay(t, wechatpayNotification(t, tx, { timestamp: stamp(skew) })).expect(204);
    expect(await countOf(tx.transaction_id)).toBe(1);
  });

  it("the host's clock does not judge: a timestamp of the wall clock, an hour behind, is refused", async () => {
    const tx = wechatpayTransaction();
    const n = wechatpayNotification(t, tx, { timestamp: Math.floor(Date.now() / 1000) });
    expectWechatFailure(await postWechatpay(t, n), 401);
    expect(await countOf(tx.transaction_id)).toBe(0);
  });
});
