import { ConfigError, loadConfig } from './hejie-config';
import { parseIntegratorKeys } from './integrator-keys';

const base = {
  JWT_SECRET: 'a-secret-of-at-least-32-bytes-0123456789',
  PII_KEY: Buffer.alloc(32, 7).toString('base64'),
};

describe('RECEIPT_HMAC_KEYS', () => {
  it('parses keyId:secret:provider1|provider2 entries, plus default from RECEIPT_HMAC_SECRET', () => {
    const problems: string[] = [];
    const keys = parseIntegratorKeys(
      'pos1:secret:with:colons-0123:sunmi-pos|pos-b, agg:another-secret-0123456:agg-pay',
      'the-default-secret',
      problems,
    );
    expect(problems).toEqual([]);
    expect([...keys.keys()]).toEqual(['default', 'pos1', 'agg']);
    expect(keys.get('pos1')).toEqual({
      keyId: 'pos1',
      secret: 'secret:with:colons-0123',
      providers: new Set(['sunmi-pos', 'pos-b']),
    });
    expect(keys.get('default')?.providers).toBeNull();
  });

  it('no keys at all → an empty map (the generic routes answer 503)', () => {
    expect(parseIntegratorKeys(undefined, null, []).size).toBe(0);
  });

  it.each([
    ['no providers part', 'pos1:secret-0123456789abcdef'],
    ['a reserved provider', 'pos1:secret-0123456789abcdef:alipay'],
    ['wechatpay among others', 'pos1:secret-0123456789abcdef:pos|wechatpay'],
    ['a provider with capitals', 'pos1:secret-0123456789abcdef:Sunmi'],
    ['a short secret', 'pos1:short:sunmi-pos'],
    ['the key id default', 'default:secret-0123456789abcdef:sunmi-pos'],
    ['a key id twice', 'a:secret-0123456789abcdef:x-pos,a:secret-0123456789abcdef:y-pos'],
    ['an empty key id', ':secret-0123456789abcdef:sunmi-pos'],
  ])('%s stops start-up with a message naming RECEIPT_HMAC_KEYS', (_w, raw) => {
    expect(() => loadConfig({ ...base, RECEIPT_HMAC_KEYS: raw })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, RECEIPT_HMAC_KEYS: raw })).toThrow(/RECEIPT_HMAC_KEYS/);
  });

  it('the message never contains a secret', () => {
    try {
      loadConfig({ ...base, RECEIPT_HMAC_KEYS: 'pos1:topsecret-0123456789:alipay' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(String(e)).not.toContain('topsecret');
    }
  });

  it('timeouts and the batch cap have defaults and are validated', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      connectionTimeoutMs: 120_000,
      keepAliveTimeoutMs: 72_000,
      batchMaxConcurrent: 2,
    });
    expect(() => loadConfig({ ...base, REQUEST_TIMEOUT: 'forever' })).toThrow(/REQUEST_TIMEOUT/);
    expect(() => loadConfig({ ...base, REQUEST_TIMEOUT: '5s', HEADERS_TIMEOUT: '10s' })).toThrow(
      /HEADERS_TIMEOUT/,
    );
    expect(() => loadConfig({ ...base, BATCH_MAX_CONCURRENT: '0' })).toThrow(
      /BATCH_MAX_CONCURRENT/,
    );
  });
});
