import { randomBytes } from 'node:crypto';
import { decryptPii, encryptPii, maskPhone } from './pii';

describe('PII encryption', () => {
  const key = randomBytes(32);

  it('round-trips and never contains the clear value', () => {
    const sealed = encryptPii('13812345678', key);
    expect(sealed).not.toContain('13812345678');
    expect(sealed).not.toContain('5678');
    expect(decryptPii(sealed, key)).toBe('13812345678');
  });

  it('uses a fresh IV each time', () => {
    expect(encryptPii('13812345678', key)).not.toBe(encryptPii('13812345678', key));
  });

  it('refuses a tampered value or another key', () => {
    const sealed = encryptPii('13812345678', key);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    parts[3] = ct.toString('base64url');
    expect(() => decryptPii(parts.join('.'), key)).toThrow();
    expect(() => decryptPii(sealed, randomBytes(32))).toThrow();
  });

  it('masks a mainland mobile number as 138****5678', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
  });
});
