import { codeOf } from '@app/shared/errors/domain-error.testing';
import { parseIntegratorKeys } from '@app/shared/config/integrator-keys';
import { assertProviderAllowed, integratorFor } from './integrator-auth';

const SIG = `sha256=${'ab'.repeat(32)}`;
const keys = parseIntegratorKeys('pos1:pos-one-secret-0123:sunmi-pos|pos-b', 'default-secret', []);

describe('integrator keys before the body is read', () => {
  it('no X-Hejie-Key-Id → default; a named key → that key', () => {
    expect(integratorFor(keys, undefined, SIG).keyId).toBe('default');
    expect(integratorFor(keys, 'pos1', SIG).keyId).toBe('pos1');
    expect(
      integratorFor(keys, ' pos1 ', ` ${SIG.toUpperCase().replace('SHA256', 'sha256')} `).keyId,
    ).toBe('pos1');
  });

  it.each([
    ['an unknown key id', 'ghost', SIG],
    ['two key ids', ['pos1', 'pos1'], SIG],
    ['no signature', 'pos1', undefined],
    ['an empty signature', 'pos1', '  '],
    ['a short digest', 'pos1', 'sha256=abc'],
    ['another algorithm', 'pos1', `sha1=${'ab'.repeat(32)}`],
    ['two signatures', 'pos1', [SIG, SIG]],
  ])('%s → 401 RECEIPT_SIGNATURE_INVALID', (_w, keyId, sig) => {
    expect(codeOf(() => integratorFor(keys, keyId, sig))).toBe('RECEIPT_SIGNATURE_INVALID');
  });

  it('no key configured at all → 503 PROVIDER_NOT_CONFIGURED, whatever was sent', () => {
    expect(codeOf(() => integratorFor(new Map(), undefined, SIG))).toBe('PROVIDER_NOT_CONFIGURED');
    expect(codeOf(() => integratorFor(new Map(), 'x', undefined))).toBe('PROVIDER_NOT_CONFIGURED');
  });
});

describe('providers a key may sign for', () => {
  it('a listed provider is allowed; another one → 401', () => {
    const pos1 = keys.get('pos1')!;
    expect(codeOf(() => assertProviderAllowed(pos1, 'pos-b'))).toBeNull();
    expect(codeOf(() => assertProviderAllowed(pos1, 'other-pos'))).toBe(
      'RECEIPT_SIGNATURE_INVALID',
    );
  });

  it('default may sign for any provider that is not reserved', () => {
    expect(codeOf(() => assertProviderAllowed(keys.get('default')!, 'any-pos'))).toBeNull();
  });

  it.each(['alipay', 'wechatpay'])('%s is reserved for every key → 422 PROVIDER_RESERVED', (p) => {
    for (const key of keys.values()) {
      expect(codeOf(() => assertProviderAllowed(key, p))).toBe('PROVIDER_RESERVED');
    }
  });
});
