import { codeOf, errorOf } from '@app/shared/errors/domain-error.testing';
import { parseGenericReceipt, parseNdjsonBatch, verifyHmacSignature } from './hmac.verifier';
import { signHmac } from './test-signers';

const fieldsOf = (fn: () => unknown): string[] =>
  (errorOf(fn).errors ?? []).map((e) => e.field).sort();

const SECRET = 'receipt-hmac-secret';

const VALID = {
  provider: 'sunmi_pos',
  tradeNo: 'POS-20261123-000123',
  payerId: 'member-42',
  accountId: 'store-7',
  amountMinor: 3550,
  currency: 'CNY',
  paidAt: '2026-11-23T10:00:02+08:00',
  subject: '50% off & more',
};

describe('verifyHmacSignature', () => {
  const body = JSON.stringify(VALID);

  it('accepts the right signature over a string or a Buffer', () => {
    expect(() => verifyHmacSignature(body, signHmac(body, SECRET), SECRET)).not.toThrow();
    const buf = Buffer.from(body);
    expect(() => verifyHmacSignature(buf, signHmac(buf, SECRET), SECRET)).not.toThrow();
  });

  it('accepts upper-case hex and surrounding blanks', () => {
    const header = signHmac(body, SECRET).replace(/[0-9a-f]+$/, (h) => h.toUpperCase());
    expect(() => verifyHmacSignature(body, ` ${header} `, SECRET)).not.toThrow();
  });

  it('rejects a tampered body', () => {
    const tampered = body.replace('3550', '355');
    expect(codeOf(() => verifyHmacSignature(tampered, signHmac(body, SECRET), SECRET))).toBe(
      'RECEIPT_SIGNATURE_INVALID',
    );
  });

  it('rejects a signature made with another secret', () => {
    expect(codeOf(() => verifyHmacSignature(body, signHmac(body, 'other'), SECRET))).toBe(
      'RECEIPT_SIGNATURE_INVALID',
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no scheme', signHmac(body, SECRET).slice('sha256='.length)],
    ['other scheme', signHmac(body, SECRET).replace('sha256', 'sha1')],
    ['too short', signHmac(body, SECRET).slice(0, -2)],
    ['too long', `${signHmac(body, SECRET)}00`],
    ['not hex', `sha256=${'zz'.repeat(32)}`],
    ['garbage', '\u0000\u00ff'],
  ])('rejects a %s header', (_label, header) => {
    expect(codeOf(() => verifyHmacSignature(body, header, SECRET))).toBe(
      'RECEIPT_SIGNATURE_INVALID',
    );
  });

  it('an empty secret is a configuration error', () => {
    expect(codeOf(() => verifyHmacSignature(body, signHmac(body, ''), ''))).toBe(
      'PROVIDER_NOT_CONFIGURED',
    );
  });
});

describe('parseGenericReceipt', () => {
  it('normalises a valid receipt, prefixing the payer with the provider', () => {
    expect(parseGenericReceipt(VALID)).toEqual({
      ...VALID,
      payerId: 'sunmi_pos:member-42',
      paidAt: new Date('2026-11-23T02:00:02.000Z'),
    });
  });

  it('keeps items when given and omits them otherwise', () => {
    const items = [{ name: 'Latte', qty: 1, amountMinor: 3550 }];
    expect(parseGenericReceipt({ ...VALID, items }).items).toEqual(items);
    expect('items' in parseGenericReceipt(VALID)).toBe(false);
  });

  it.each([
    '2026-11-23T02:00:02Z',
    '2026-11-23T02:00:02.123Z',
    '2026-11-23T10:00+08:00',
    '2026-11-22T21:00:02-05:00',
  ])('accepts paidAt %s', (paidAt) => {
    expect(parseGenericReceipt({ ...VALID, paidAt }).paidAt).toBeInstanceOf(Date);
  });

  it.each([
    ['amountMinor', { amountMinor: 1.5 }],
    ['amountMinor', { amountMinor: '100' }],
    ['amountMinor', { amountMinor: -1 }],
    ['amountMinor', { amountMinor: 2 ** 53 }],
    ['amountMinor', { amountMinor: null }],
    ['currency', { currency: 'cny' }],
    ['currency', { currency: 'CNYY' }],
    ['provider', { provider: 'A' }],
    ['provider', { provider: 'x' }],
    ['provider', { provider: `p${'a'.repeat(32)}` }],
    ['provider', { provider: 'pos:evil' }],
    ['tradeNo', { tradeNo: '' }],
    ['tradeNo', { tradeNo: 'x'.repeat(65) }],
    ['payerId', { payerId: 42 }],
    ['accountId', { accountId: undefined }],
    ['paidAt', { paidAt: '2026-11-23T10:00:02' }],
    ['paidAt', { paidAt: 'yesterday' }],
    ['paidAt', { paidAt: '2026-02-30T10:00:00Z' }],
    ['paidAt', { paidAt: 1763863202000 }],
    ['subject', { subject: 's'.repeat(257) }],
    ['subject', { subject: undefined }],
    ['items', { items: { name: 'Latte' } }],
    ['items', { items: null }],
    ['merchantId', { merchantId: 'm-1' }],
  ])('refuses a bad %s', (field, patch) => {
    const err = errorOf(() => parseGenericReceipt({ ...VALID, ...patch }));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.errors?.map((e) => e.field)).toEqual([field]);
    expect(err.message).toContain(field);
  });

  it('reports all problems at once', () => {
    expect(
      fieldsOf(() => parseGenericReceipt({ ...VALID, amountMinor: 1.5, currency: 'x', foo: 1 })),
    ).toEqual(['amountMinor', 'currency', 'foo']);
  });

  it.each([null, [], 'text', 42])('refuses a non-object %j', (value) => {
    expect(codeOf(() => parseGenericReceipt(value))).toBe('VALIDATION_FAILED');
  });

  it('treats a __proto__ key as an unknown field', () => {
    const obj = JSON.parse(`{"__proto__":{"x":1},${JSON.stringify(VALID).slice(1)}`);
    expect(fieldsOf(() => parseGenericReceipt(obj))).toEqual(['__proto__']);
  });
});

describe('parseNdjsonBatch', () => {
  const line = (patch: Record<string, unknown> = {}) => JSON.stringify({ ...VALID, ...patch });

  it('keeps good lines, reports bad lines by 1-based number, skips blank lines', () => {
    const body = [
      line({ tradeNo: 'T1' }),
      '',
      line({ tradeNo: 'T3', amountMinor: 1.5 }),
      '{not json',
      '   ',
      line({ tradeNo: 'T6', amountMinor: '100' }),
      line({ tradeNo: 'T7' }),
      '',
    ].join('\r\n');
    const results = parseNdjsonBatch(body);
    expect(results.map((r) => [r.line, r.code ?? r.receipt?.tradeNo])).toEqual([
      [1, 'T1'],
      [3, 'VALIDATION_FAILED'],
      [4, 'VALIDATION_FAILED'],
      [6, 'VALIDATION_FAILED'],
      [7, 'T7'],
    ]);
    expect(results[1].detail).toContain('amountMinor');
    expect(results[2].detail).toContain('JSON');
    expect(results[3].detail).toContain('amountMinor');
    expect(results[0].receipt?.payerId).toBe('sunmi_pos:member-42');
  });

  it('tolerates a UTF-8 BOM, LF-only bodies and a missing final newline', () => {
    const results = parseNdjsonBatch(`\ufeff${line()}\n${line({ tradeNo: 'T2' })}`);
    expect(results.map((r) => r.receipt?.tradeNo)).toEqual([VALID.tradeNo, 'T2']);
  });

  it('returns nothing for an empty body', () => {
    expect(parseNdjsonBatch('')).toEqual([]);
    expect(parseNdjsonBatch('\n\r\n\n')).toEqual([]);
  });

  // Speed is the batch benchmark's business (bench/intake.ts), not a timed unit test.
  it('parses 20,000 lines, numbering each refused line where it stands', () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      lines.push(i % 1000 === 999 ? '{"bad":true}' : line({ tradeNo: `T${i}` }));
    }
    const results = parseNdjsonBatch(lines.join('\n'));
    expect(results).toHaveLength(20_000);
    expect(results.filter((r) => r.code).map((r) => r.line)).toEqual(
      Array.from({ length: 20 }, (_, k) => (k + 1) * 1000),
    );
  });
});
