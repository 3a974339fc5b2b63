import { sign as cryptoSign } from 'node:crypto';
import { codeOf, errorOf } from '@app/shared/errors/domain-error.testing';
import {
  verifyWechatpayNotification,
  type WechatpayNotificationInput,
  type WechatpayVerifierConfig,
} from './wechatpay.verifier';
import { buildWechatpayNotification, generateRsaKeyPair } from './test-signers';
import { sdkWechatpayNotification } from './provider-sdks.testing';
import {
  TEST_API_V3_KEY as API_V3_KEY,
  WECHATPAY_REFUND,
  WECHATPAY_TRANSACTION as TX,
} from './sample-notifications.testing';

const OTHER_API_V3_KEY = 'ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ';
const NOW = new Date('2026-11-23T02:00:10.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

describe('verifyWechatpayNotification', () => {
  const { publicKeyPem, privateKeyPem } = generateRsaKeyPair();
  const other = generateRsaKeyPair('other');
  const cfg: WechatpayVerifierConfig = {
    platformPublicKeyPem: publicKeyPem,
    apiV3Key: API_V3_KEY,
    now: NOW,
  };
  const build = (
    tx: object = TX,
    extra: Partial<Parameters<typeof buildWechatpayNotification>[0]> = {},
  ) =>
    buildWechatpayNotification({
      transaction: tx,
      apiV3Key: API_V3_KEY,
      privateKeyPem,
      timestamp: NOW_S,
      ...extra,
    });
  const verify = (n: { headers: Record<string, string | undefined>; body: string }, c = cfg) =>
    verifyWechatpayNotification({ headers: n.headers, rawBody: n.body }, c);
  /** Re-signs an arbitrary body with the platform key, as if WeChat Pay had sent it. */
  const resign = (body: string, key = privateKeyPem, timestamp = NOW_S, nonce = 'n0nce') => ({
    headers: {
      'Wechatpay-Timestamp': String(timestamp),
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': 'SERIAL',
      'Wechatpay-Signature': cryptoSign(
        'sha256',
        Buffer.from(`${timestamp}\n${nonce}\n${body}\n`),
        key,
      ).toString('base64'),
    },
    body,
  });

  it('accepts a valid notification and normalises it', () => {
    expect(verify(build())).toEqual({
      kind: 'receipt',
      receipt: {
        provider: 'wechatpay',
        tradeNo: TX.transaction_id,
        payerId: 'wechatpay:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        accountId: '1230000109',
        amountMinor: 1250,
        currency: 'CNY',
        paidAt: new Date('2026-11-23T02:00:02.000Z'),
        subject: TX.out_trade_no,
      },
    });
  });

  it('looks headers up case-insensitively', () => {
    const n = build();
    const lower = Object.fromEntries(
      Object.entries(n.headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(verify({ headers: lower, body: n.body }).kind).toBe('receipt');
  });

  it('uses attach, then description, then out_trade_no as subject; % and & survive', () => {
    const a = verify(build({ ...TX, attach: '50% off & more', description: 'desc' }));
    expect(a.kind === 'receipt' && a.receipt.subject).toBe('50% off & more');
    const d = verify(build({ ...TX, description: 'Latte 大杯' }));
    expect(d.kind === 'receipt' && d.receipt.subject).toBe('Latte 大杯');
  });

  it.each(['NOTPAY', 'CLOSED', 'REFUND', 'PAYERROR'])('ignores a well-signed %s', (state) => {
    const outcome = verify(build({ ...TX, trade_state: state }));
    expect(outcome.kind).toBe('ignored');
    if (outcome.kind === 'ignored') expect(outcome.reason).toContain(state);
  });

  it('a REFUND.SUCCESS is a refund (issue 13), and one without its facts is VALIDATION_FAILED', () => {
    const refund = { mchid: TX.mchid, out_refund_no: 'R1', refund_status: 'SUCCESS' };
    expect(codeOf(() => verify(build(refund, { eventType: 'REFUND.SUCCESS' })))).toBe(
      'VALIDATION_FAILED',
    );
    const full = {
      ...refund,
      transaction_id: TX.transaction_id,
      refund_id: '50000000382019052709732678859',
      success_time: '2026-11-25T10:00:01+08:00',
      amount: { total: 10, refund: 10, payer_total: 10, payer_refund: 10 },
    };
    expect(verify(build(full, { eventType: 'REFUND.SUCCESS' })).kind).toBe('refund');
    expect(
      verify(build({ ...full, refund_status: 'CLOSED' }, { eventType: 'REFUND.CLOSED' })).kind,
    ).toBe('ignored');
  });

  it('rejects a tampered body', () => {
    const n = build();
    const body = n.body.replace('TRANSACTION.SUCCESS', 'TRANSACTION.SUCCESs');
    expect(body).not.toBe(n.body);
    expect(codeOf(() => verify({ ...n, body }))).toBe('RECEIPT_SIGNATURE_INVALID');
    const pretty = JSON.stringify(JSON.parse(n.body), null, 2);
    expect(codeOf(() => verify({ ...n, body: pretty }))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects tampered signed headers', () => {
    const n = build();
    const nonce = { ...n.headers, 'Wechatpay-Nonce': `${n.headers['Wechatpay-Nonce']}x` };
    expect(codeOf(() => verify({ ...n, headers: nonce }))).toBe('RECEIPT_SIGNATURE_INVALID');
    const ts = { ...n.headers, 'Wechatpay-Timestamp': String(NOW_S - 1) };
    expect(codeOf(() => verify({ ...n, headers: ts }))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects a notification signed with another key', () => {
    const n = build(TX, { privateKeyPem: other.privateKeyPem });
    expect(codeOf(() => verify(n))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it.each(['Wechatpay-Signature', 'Wechatpay-Timestamp', 'Wechatpay-Nonce'])(
    'rejects a missing %s',
    (name) => {
      const n = build();
      const headers: Record<string, string | undefined> = { ...n.headers, [name]: undefined };
      expect(codeOf(() => verify({ ...n, headers }))).toBe('RECEIPT_SIGNATURE_INVALID');
      expect(codeOf(() => verify({ ...n, headers: { ...n.headers, [name]: '' } }))).toBe(
        'RECEIPT_SIGNATURE_INVALID',
      );
    },
  );

  it('rejects a garbled signature', () => {
    const n = build();
    const headers = { ...n.headers, 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/abc==' };
    expect(codeOf(() => verify({ ...n, headers }))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  describe('timestamp freshness', () => {
    it.each([
      ['too old', -301],
      ['too far in the future', 301],
      ['hours old', -3600 * 5],
    ])('rejects a timestamp %s', (_label, offset) => {
      const err = errorOf(() => verify(build(TX, { timestamp: NOW_S + offset })));
      expect(err.code).toBe('RECEIPT_SIGNATURE_INVALID');
      expect(err.message).toContain('Wechatpay-Timestamp');
    });

    it.each([-300, -299, 0, 299, 300])('accepts a skew of %d s', (offset) => {
      expect(verify(build(TX, { timestamp: NOW_S + offset })).kind).toBe('receipt');
    });

    it('honours maxSkewSeconds', () => {
      const n = build(TX, { timestamp: NOW_S - 60 });
      expect(codeOf(() => verify(n, { ...cfg, maxSkewSeconds: 30 }))).toBe(
        'RECEIPT_SIGNATURE_INVALID',
      );
      expect(verify(n, { ...cfg, maxSkewSeconds: 90 }).kind).toBe('receipt');
    });

    it('rejects a non-numeric timestamp', () => {
      const n = resign(build().body, privateKeyPem, NOW_S);
      const headers = { ...n.headers, 'Wechatpay-Timestamp': `${NOW_S}.0` };
      expect(codeOf(() => verify({ ...n, headers }))).toBe('RECEIPT_SIGNATURE_INVALID');
    });
  });

  it('rejects a resource that does not decrypt with our APIv3 key', () => {
    const n = build(TX, { apiV3Key: OTHER_API_V3_KEY });
    const err = errorOf(() => verify(n));
    expect(err.code).toBe('RECEIPT_SIGNATURE_INVALID');
    expect(err.message).toContain('decrypt');
  });

  it('rejects a resource whose ciphertext or associated_data was altered (GCM tag)', () => {
    const body = JSON.parse(build().body);
    const ct = Buffer.from(body.resource.ciphertext, 'base64');
    ct[0] ^= 1;
    const flipped = { ...body, resource: { ...body.resource, ciphertext: ct.toString('base64') } };
    expect(codeOf(() => verify(resign(JSON.stringify(flipped))))).toBe('RECEIPT_SIGNATURE_INVALID');
    const aad = { ...body, resource: { ...body.resource, associated_data: 'refund' } };
    expect(codeOf(() => verify(resign(JSON.stringify(aad))))).toBe('RECEIPT_SIGNATURE_INVALID');
    const algo = { ...body, resource: { ...body.resource, algorithm: 'AEAD_CHACHA20' } };
    expect(codeOf(() => verify(resign(JSON.stringify(algo))))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('wrong content type: a form body fails the signature, or validation when signed', () => {
    const form = 'trade_no=1&total_amount=1.00&sign=abc';
    const n = build();
    expect(codeOf(() => verify({ headers: n.headers, body: form }))).toBe(
      'RECEIPT_SIGNATURE_INVALID',
    );
    expect(codeOf(() => verify(resign(form)))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => verify(resign('[1,2]')))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => verify(resign('{"resource":null}')))).toBe('VALIDATION_FAILED');
    expect(
      codeOf(() =>
        verifyWechatpayNotification(
          { headers: undefined, rawBody: undefined } as unknown as WechatpayNotificationInput,
          cfg,
        ),
      ),
    ).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  describe('well-signed but malformed transaction', () => {
    it.each([
      ['amount.total', { amount: { ...TX.amount, total: 12.5 } }],
      ['amount.total', { amount: { ...TX.amount, total: '1250' } }],
      ['amount.total', { amount: { ...TX.amount, total: -1 } }],
      ['amount.total', { amount: { ...TX.amount, total: 2 ** 53 } }],
      ['amount.currency', { amount: { total: 1250 } }],
      ['success_time', { success_time: '2026-11-23T10:00:02' }],
      ['success_time', { success_time: '2026-11-23 10:00:02' }],
      ['success_time', { success_time: '2026-13-01T10:00:02+08:00' }],
      ['payer.openid', { payer: {} }],
      ['mchid', { mchid: undefined }],
      ['transaction_id', { transaction_id: '' }],
    ])('reports %s', (field, patch) => {
      const err = errorOf(() => verify(build({ ...TX, ...patch })));
      expect(err.code).toBe('VALIDATION_FAILED');
      expect(err.errors?.map((e) => e.field)).toEqual([field]);
    });

    it('accepts amount.total 0 and a UTC success_time', () => {
      const outcome = verify(
        build({ ...TX, amount: { ...TX.amount, total: 0 }, success_time: '2026-11-23T02:00:02Z' }),
      );
      expect(outcome.kind === 'receipt' && outcome.receipt.amountMinor).toBe(0);
      expect(outcome.kind === 'receipt' && outcome.receipt.paidAt.toISOString()).toBe(
        '2026-11-23T02:00:02.000Z',
      );
    });
  });

  it('checks Wechatpay-Serial only when a platformSerial is configured', () => {
    const n = build(TX, { serial: 'PUB_KEY_ID_0112345' });
    expect(verify(n, { ...cfg, platformSerial: 'PUB_KEY_ID_0112345' }).kind).toBe('receipt');
    expect(codeOf(() => verify(n, { ...cfg, platformSerial: 'OTHER' }))).toBe(
      'RECEIPT_SIGNATURE_INVALID',
    );
  });

  it('a bad configuration is PROVIDER_NOT_CONFIGURED', () => {
    expect(codeOf(() => verify(build(), { ...cfg, apiV3Key: 'short' }))).toBe(
      'PROVIDER_NOT_CONFIGURED',
    );
    expect(codeOf(() => verify(build(), { ...cfg, platformPublicKeyPem: 'nope' }))).toBe(
      'PROVIDER_NOT_CONFIGURED',
    );
  });

  describe('notifications assembled with the SDK primitives (wechatpay-axios-plugin)', () => {
    /** What our verifier reads from the SDK's notification of `plain`, checked at `timestamp`. */
    const readSdkMade = (
      plain: object,
      eventType: 'TRANSACTION.SUCCESS' | 'REFUND.SUCCESS',
      timestamp: number,
    ) =>
      verifyWechatpayNotification(
        sdkWechatpayNotification({
          plain,
          originalType: eventType === 'REFUND.SUCCESS' ? 'refund' : 'transaction',
          eventType,
          id: 'EV-1',
          createTime: new Date(timestamp * 1000).toISOString(),
          timestamp,
          privateKeyPem,
          apiV3Key: API_V3_KEY,
          headers: { 'wechatpay-serial': 'X' },
        }),
        {
          platformPublicKeyPem: publicKeyPem,
          apiV3Key: API_V3_KEY,
          now: new Date(timestamp * 1000),
        },
      );

    it('a payment reads as its receipt', () => {
      const tx = { ...TX, attach: '50% off & more' };
      const outcome = readSdkMade(tx, 'TRANSACTION.SUCCESS', 1763863210);
      expect(outcome.kind === 'receipt' && outcome.receipt).toMatchObject({
        tradeNo: TX.transaction_id,
        amountMinor: TX.amount.total,
        subject: '50% off & more',
      });
    });

    it('a refund reads as its refund', () => {
      const outcome = readSdkMade(WECHATPAY_REFUND, 'REFUND.SUCCESS', 1764036001);
      expect(outcome.kind === 'refund' && outcome.refund.amountMinor).toBe(3000);
    });
  });
});
