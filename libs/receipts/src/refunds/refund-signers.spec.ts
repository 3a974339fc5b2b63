/*
 * Refund notifications made by our test signers are checked against the providers' independent
 * implementations (alipay-sdk checkNotifySignV2; wechatpay-axios-plugin Rsa and AesGcm), and
 * read by our verifiers as refunds.
 */
import { errorOf } from '@app/shared/errors/domain-error.testing';
import { verifyAlipayNotification } from '../verifiers/alipay.verifier';
import { verifyWechatpayNotification } from '../verifiers/wechatpay.verifier';
import {
  buildWechatpayNotification,
  generateRsaKeyPair,
  signAlipayNotification,
} from '../verifiers/test-signers';
import { alipaySdkFor, postDataOf, sdkReadWechatpay } from '../verifiers/provider-sdks.testing';
import {
  ALIPAY_PAYMENT,
  TEST_API_V3_KEY,
  WECHATPAY_REFUND,
} from '../verifiers/sample-notifications.testing';
import { parseGenericRefund } from './refund-notifications';

/** An Alipay notification after a partial refund: TRADE_SUCCESS with refund_fee and gmt_refund. */
const ALIPAY_REFUND: Record<string, string> = {
  ...ALIPAY_PAYMENT,
  notify_time: '2026-11-25 10:00:05',
  out_biz_no: 'RF-20261125-0001',
  total_amount: '122.50',
  receipt_amount: '122.50',
  refund_fee: '30.00',
  gmt_refund: '2026-11-25 10:00:01.123',
  subject: '龙井茶 250g',
};

describe('Alipay refund notifications', () => {
  const { publicKeyPem, privateKeyPem } = generateRsaKeyPair();
  const sdk = alipaySdkFor(generateRsaKeyPair());

  it('a partial refund (TRADE_SUCCESS) passes checkNotifySignV2 and reads as a refund total', () => {
    const body = signAlipayNotification(ALIPAY_REFUND, privateKeyPem);
    expect(sdk.checkNotifySignV2(postDataOf(body))).toBe(true);
    const outcome = verifyAlipayNotification(body, publicKeyPem);
    expect(outcome).toEqual({
      kind: 'refund',
      refund: {
        provider: 'alipay',
        tradeNo: ALIPAY_REFUND.trade_no,
        refundNo: 'RF-20261125-0001',
        refundedTotalMinor: 3000,
        currency: 'CNY',
        refundedAt: new Date('2026-11-25T02:00:01.123Z'),
      },
    });
  });

  it('a full refund arrives as TRADE_CLOSED and is still a refund', () => {
    const body = signAlipayNotification(
      {
        ...ALIPAY_REFUND,
        trade_status: 'TRADE_CLOSED',
        refund_fee: '122.50',
        gmt_refund: '2026-11-26 09:00:00',
      },
      privateKeyPem,
    );
    expect(sdk.checkNotifySignV2(postDataOf(body))).toBe(true);
    const outcome = verifyAlipayNotification(body, publicKeyPem);
    expect(outcome.kind === 'refund' && outcome.refund.refundedTotalMinor).toBe(12250);
  });

  it('the SDK and our verifier both refuse a tampered refund_fee', () => {
    const body = signAlipayNotification(ALIPAY_REFUND, privateKeyPem);
    const tampered = body.replace('refund_fee=30.00', 'refund_fee=122.50');
    expect(sdk.checkNotifySignV2(postDataOf(tampered))).toBe(false);
    expect(() => verifyAlipayNotification(tampered, publicKeyPem)).toThrow(/signature/i);
  });

  it('a TRADE_CLOSED without refund_fee is still ignored (a closed unpaid trade)', () => {
    const { refund_fee: _f, gmt_refund: _g, out_biz_no: _o, ...unpaid } = ALIPAY_REFUND;
    const body = signAlipayNotification({ ...unpaid, trade_status: 'TRADE_CLOSED' }, privateKeyPem);
    expect(verifyAlipayNotification(body, publicKeyPem).kind).toBe('ignored');
  });

  it('a refund without out_biz_no or with a bad gmt_refund is VALIDATION_FAILED', () => {
    const { out_biz_no: _o, ...noNo } = ALIPAY_REFUND;
    expect(() =>
      verifyAlipayNotification(signAlipayNotification(noNo, privateKeyPem), publicKeyPem),
    ).toThrow(/out_biz_no/);
    expect(() =>
      verifyAlipayNotification(
        signAlipayNotification({ ...ALIPAY_REFUND, gmt_refund: '2026-11-25T10:00' }, privateKeyPem),
        publicKeyPem,
      ),
    ).toThrow(/gmt_refund/);
  });
});

describe('WeChat Pay refund notifications', () => {
  const { publicKeyPem, privateKeyPem } = generateRsaKeyPair();
  const apiV3Key = TEST_API_V3_KEY;
  const now = (headers: Record<string, string>) =>
    new Date(Number(headers['Wechatpay-Timestamp']) * 1000);

  it('REFUND.SUCCESS: signature passes Rsa.verify, resource decrypts with AesGcm, reads as a refund', () => {
    const { headers, body } = buildWechatpayNotification({
      transaction: WECHATPAY_REFUND,
      apiV3Key,
      privateKeyPem,
      eventType: 'REFUND.SUCCESS',
    });
    const read = sdkReadWechatpay({ headers, body }, publicKeyPem, apiV3Key);
    expect(read.signed).toBe(true);
    expect(read.resource.associated_data).toBe('refund');
    expect(read.plain).toEqual(WECHATPAY_REFUND);
    const outcome = verifyWechatpayNotification(
      { headers, rawBody: body },
      { platformPublicKeyPem: publicKeyPem, apiV3Key, now: now(headers) },
    );
    expect(outcome).toEqual({
      kind: 'refund',
      refund: {
        provider: 'wechatpay',
        tradeNo: WECHATPAY_REFUND.transaction_id,
        refundNo: WECHATPAY_REFUND.refund_id,
        amountMinor: 3000,
        currency: 'CNY',
        refundedAt: new Date('2026-11-25T02:00:01Z'),
      },
    });
  });

  it.each(['REFUND.ABNORMAL', 'REFUND.CLOSED'])(
    '%s is acknowledged and records nothing',
    (eventType) => {
      const { headers, body } = buildWechatpayNotification({
        transaction: { ...WECHATPAY_REFUND, refund_status: eventType.slice(7) },
        apiV3Key,
        privateKeyPem,
        eventType,
      });
      const outcome = verifyWechatpayNotification(
        { headers, rawBody: body },
        { platformPublicKeyPem: publicKeyPem, apiV3Key, now: now(headers) },
      );
      expect(outcome.kind).toBe('ignored');
    },
  );
});

describe('parseGenericRefund', () => {
  const good = {
    provider: 'sunmi-pos',
    tradeNo: 'T1',
    refundNo: 'R1',
    amountMinor: 3000,
    currency: 'CNY',
    refundedAt: '2026-11-25T10:00:00+08:00',
  };
  it('reads a well-formed body', () => {
    expect(parseGenericRefund(good)).toEqual({
      ...good,
      refundedAt: new Date('2026-11-25T02:00:00Z'),
    });
  });
  it.each([
    [{ amountMinor: 0 }, 'amountMinor'],
    [{ amountMinor: 1.5 }, 'amountMinor'],
    [{ amountMinor: 1e13 }, 'amountMinor'],
    [{ refundedAt: '2026-11-25 10:00:00' }, 'refundedAt'],
    [{ extra: 1 }, 'extra'],
    [{ refundNo: '' }, 'refundNo'],
    [{ tradeNo: 'a\u0000b' }, 'tradeNo'],
  ])('refuses %j (field %s)', (patch, field) => {
    const e = errorOf(() => parseGenericRefund({ ...good, ...patch }));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.errors?.map((x) => x.field)).toContain(field);
  });
});
