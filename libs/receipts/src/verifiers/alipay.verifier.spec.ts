import { sign as cryptoSign } from 'node:crypto';
import { codeOf, errorOf } from '@app/shared/errors/domain-error.testing';
import { verifyAlipayNotification } from './alipay.verifier';
import { generateRsaKeyPair, signAlipayNotification } from './test-signers';
import { ALIPAY_PAYMENT as BASE } from './sample-notifications.testing';

describe('verifyAlipayNotification', () => {
  const { publicKeyPem, privateKeyPem } = generateRsaKeyPair();
  const other = generateRsaKeyPair('other');
  const signed = (overrides: Record<string, string> = {}) =>
    signAlipayNotification({ ...BASE, ...overrides }, privateKeyPem);
  const verify = (body: string) => verifyAlipayNotification(body, publicKeyPem);

  it('accepts a valid notification and normalises it', () => {
    const outcome = verify(signed());
    expect(outcome).toEqual({
      kind: 'receipt',
      receipt: {
        provider: 'alipay',
        tradeNo: BASE.trade_no,
        payerId: 'alipay:2088102177846875',
        accountId: '2088101117955611',
        amountMinor: 1250,
        currency: 'CNY',
        paidAt: new Date('2026-11-23T02:00:02.000Z'),
        subject: 'Coffee',
      },
    });
  });

  it('treats TRADE_FINISHED as paid', () => {
    expect(verify(signed({ trade_status: 'TRADE_FINISHED' })).kind).toBe('receipt');
  });

  it.each(['WAIT_BUYER_PAY', 'TRADE_CLOSED'])('ignores a well-signed %s notification', (status) => {
    const outcome = verify(signed({ trade_status: status }));
    expect(outcome.kind).toBe('ignored');
    if (outcome.kind === 'ignored') expect(outcome.reason).toContain(status);
  });

  it('verifies values containing % and & (and +, =, CJK, emoji) using decoded values', () => {
    const subject = '50% off & more + 1=1 咖啡 ☕';
    const body = signed({ subject, body: 'a%20b&c=d' });
    expect(body).toContain('50%25+off+%26+more');
    const outcome = verify(body);
    expect(outcome.kind === 'receipt' && outcome.receipt.subject).toBe(subject);
  });

  it('accepts buyer_open_id when buyer_id is absent, and prefers buyer_id', () => {
    const noBuyerId: Record<string, string> = {
      ...BASE,
      buyer_open_id: '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5',
    };
    delete noBuyerId.buyer_id;
    const a = verify(signAlipayNotification(noBuyerId, privateKeyPem));
    expect(a.kind === 'receipt' && a.receipt.payerId).toBe(
      'alipay:074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5',
    );
    const b = verify(signed({ buyer_open_id: 'open-id' }));
    expect(b.kind === 'receipt' && b.receipt.payerId).toBe('alipay:2088102177846875');
  });

  it('rejects a tampered amount', () => {
    const body = signed().replace('total_amount=12.50', 'total_amount=1250.00');
    expect(body).toContain('total_amount=1250.00');
    expect(codeOf(() => verify(body))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects an added parameter and a dropped parameter', () => {
    expect(codeOf(() => verify(`${signed()}&refund_fee=1.00`))).toBe('RECEIPT_SIGNATURE_INVALID');
    const dropped = new URLSearchParams(signed());
    dropped.delete('seller_id');
    expect(codeOf(() => verify(dropped.toString()))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects a notification signed with another key', () => {
    const body = signAlipayNotification(BASE, other.privateKeyPem);
    expect(codeOf(() => verify(body))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects a missing, empty or garbled sign', () => {
    const params = new URLSearchParams(signed());
    params.delete('sign');
    expect(codeOf(() => verify(params.toString()))).toBe('RECEIPT_SIGNATURE_INVALID');
    params.set('sign', '');
    expect(codeOf(() => verify(params.toString()))).toBe('RECEIPT_SIGNATURE_INVALID');
    params.set('sign', '!!not base64!!');
    expect(codeOf(() => verify(params.toString()))).toBe('RECEIPT_SIGNATURE_INVALID');
    expect(codeOf(() => verify(''))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('requires sign_type RSA2', () => {
    expect(codeOf(() => verify(signed({ sign_type: 'RSA' })))).toBe('RECEIPT_SIGNATURE_INVALID');
    const params = new URLSearchParams(signed());
    params.delete('sign_type');
    expect(codeOf(() => verify(params.toString()))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('refuses duplicated parameters', () => {
    const body = `${signed()}&total_amount=9999.00`;
    expect(errorOf(() => verify(body)).message).toContain('duplicate');
  });

  it('tolerates a sign whose + arrived unencoded (decoded to a space)', () => {
    let body = signed();
    for (let i = 0; !new URLSearchParams(body).get('sign')!.includes('+'); i++) {
      body = signed({ notify_id: `n${i}` });
    }
    const raw = body.replace(/sign=([^&]*)/, (_m, s: string) => `sign=${s.replace(/%2B/g, '+')}`);
    expect(verify(raw).kind).toBe('receipt');
  });

  it('wrong content type: a JSON body is a signature failure, not a crash', () => {
    const json = JSON.stringify(Object.fromEntries(new URLSearchParams(signed())));
    expect(codeOf(() => verify(json))).toBe('RECEIPT_SIGNATURE_INVALID');
    expect(codeOf(() => verify('{"sign":"abc","sign_type":"RSA2"}'))).toBe(
      'RECEIPT_SIGNATURE_INVALID',
    );
    expect(codeOf(() => verify(undefined as unknown as string))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  describe('amounts', () => {
    it.each([
      ['0.10', 10],
      ['0.1', 10],
      ['1', 100],
      ['0.01', 1],
      ['99999999.99', 9999999999],
    ])('total_amount %s → %d fen', (amount, fen) => {
      const outcome = verify(signed({ total_amount: amount }));
      expect(outcome.kind === 'receipt' && outcome.receipt.amountMinor).toBe(fen);
    });

    it.each(['0.101', '-1.00', '1e3', '1,000.00', ' 1.00', 'abc'])(
      'refuses total_amount %j as VALIDATION_FAILED naming the field',
      (amount) => {
        const err = errorOf(() => verify(signed({ total_amount: amount })));
        expect(err.code).toBe('VALIDATION_FAILED');
        expect(err.errors?.map((e) => e.field)).toEqual(['total_amount']);
      },
    );

    it('an empty total_amount is dropped from signing and reported as missing', () => {
      expect(codeOf(() => verify(signed({ total_amount: '' })))).toBe('VALIDATION_FAILED');
    });
  });

  describe('well-signed but malformed', () => {
    it.each([
      '2026-02-30 10:00:00',
      '2026-11-23T10:00:02+08:00',
      '2026-11-23 24:00:00',
      '23/11/2026',
    ])('refuses gmt_payment %j', (gmt) => {
      const err = errorOf(() => verify(signed({ gmt_payment: gmt })));
      expect(err.code).toBe('VALIDATION_FAILED');
      expect(err.errors?.[0].field).toBe('gmt_payment');
    });

    it('reports every missing field', () => {
      const params = { ...BASE };
      delete params.trade_no;
      delete params.seller_id;
      delete params.buyer_id;
      const err = errorOf(() => verify(signAlipayNotification(params, privateKeyPem)));
      expect(err.code).toBe('VALIDATION_FAILED');
      expect(err.errors?.map((e) => e.field).sort()).toEqual(['buyer_id', 'seller_id', 'trade_no']);
    });

    it('refuses a missing trade_status', () => {
      const params = { ...BASE };
      delete params.trade_status;
      expect(codeOf(() => verify(signAlipayNotification(params, privateKeyPem)))).toBe(
        'VALIDATION_FAILED',
      );
    });

    it('falls back to out_trade_no when subject is absent', () => {
      const params = { ...BASE };
      delete params.subject;
      const outcome = verify(signAlipayNotification(params, privateKeyPem));
      expect(outcome.kind === 'receipt' && outcome.receipt.subject).toBe(BASE.out_trade_no);
    });
  });

  it('also accepts a signature over content that keeps empty values (Alipay Java SDK style)', () => {
    const params = { ...BASE, fund_bill_list: '', sign_type: 'RSA2' };
    const content = Object.keys(params)
      .filter((k) => k !== 'sign_type')
      .sort()
      .map((k) => `${k}=${params[k as keyof typeof params]}`)
      .join('&');
    const sign = cryptoSign('sha256', Buffer.from(content), privateKeyPem).toString('base64');
    const body = new URLSearchParams({ ...params, sign }).toString();
    expect(verify(body).kind).toBe('receipt');
    // ...and the default rule (empty values dropped) still works with the empty param present.
    expect(verify(signed({ fund_bill_list: '' })).kind).toBe('receipt');
  });

  it('accepts the public key as the bare base64 body the Alipay console shows', () => {
    const bare = publicKeyPem.trim().split('\n').slice(1, -1).join('');
    expect(verifyAlipayNotification(signed(), bare).kind).toBe('receipt');
  });

  it('an unreadable configured key is PROVIDER_NOT_CONFIGURED, not a signature failure', () => {
    expect(codeOf(() => verifyAlipayNotification(signed(), 'not a key'))).toBe(
      'PROVIDER_NOT_CONFIGURED',
    );
    expect(codeOf(() => verifyAlipayNotification(signed(), ''))).toBe('PROVIDER_NOT_CONFIGURED');
  });
});
