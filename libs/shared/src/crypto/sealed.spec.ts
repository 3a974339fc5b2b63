import { createCipheriv, randomBytes } from 'node:crypto';
import { maskPhone } from '../pii';
import { openFor, openLegacyV1, parsePiiKey, purposeKey, sealFor } from './sealed';

describe('sealed values (AES-256-GCM, a key per purpose, the row id as associated data)', () => {
  const key = randomBytes(32);
  const row = '6f1c2a8e-1111-4c2b-9d3e-0123456789ab';

  it('round-trips and never contains the clear value', () => {
    const sealed = sealFor(key, 'phone', row, '13812345678');
    expect(sealed).toMatch(/^v2\./);
    expect(sealed).not.toContain('5678');
    expect(openFor(key, 'phone', row, sealed)).toBe('13812345678');
  });

  it('uses a fresh IV each time', () => {
    expect(sealFor(key, 'phone', row, 'x')).not.toBe(sealFor(key, 'phone', row, 'x'));
  });

  it('does not open on another row (associated data)', () => {
    const sealed = sealFor(key, 'phone', row, '13812345678');
    expect(() => openFor(key, 'phone', 'another-row', sealed)).toThrow();
  });

  it('does not open under another purpose: each purpose has its own derived key', () => {
    const sealed = sealFor(key, 'webhook-secret', row, 'whsec_x');
    expect(() => openFor(key, 'phone', row, sealed)).toThrow();
    expect(() => openFor(key, 'complainant', row, sealed)).toThrow();
    expect(purposeKey(key, 'phone').equals(purposeKey(key, 'webhook-secret'))).toBe(false);
    expect(purposeKey(key, 'phone').equals(key)).toBe(false);
  });

  it('refuses a tampered value or another key', () => {
    const sealed = sealFor(key, 'phone', row, '13812345678');
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    parts[3] = ct.toString('base64url');
    expect(() => openFor(key, 'phone', row, parts.join('.'))).toThrow();
    expect(() => openFor(randomBytes(32), 'phone', row, sealed)).toThrow();
  });

  it('refuses a truncated tag (the tag length is pinned to 16 bytes)', () => {
    const sealed = sealFor(key, 'phone', row, '13812345678');
    const parts = sealed.split('.');
    for (const n of [4, 8, 12, 15]) {
      parts[2] = Buffer.from(sealed.split('.')[2], 'base64url')
        .subarray(0, n)
        .toString('base64url');
      expect(() => openFor(key, 'phone', row, parts.join('.'))).toThrow();
    }
  });

  it('opens the v1 format (for the re-encryption migration only) and refuses it in openFor', () => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update('13812345678', 'utf8'), c.final()]);
    const v1 = [
      'v1',
      iv.toString('base64url'),
      c.getAuthTag().toString('base64url'),
      ct.toString('base64url'),
    ].join('.');
    expect(openLegacyV1(key, v1)).toBe('13812345678');
    expect(() => openFor(key, 'phone', row, v1)).toThrow();
  });

  it('parses PII_KEY', () => {
    expect(parsePiiKey(key.toString('base64'))?.equals(key)).toBe(true);
    expect(parsePiiKey(randomBytes(16).toString('base64'))).toBeNull();
    expect(parsePiiKey(undefined)).toBeNull();
  });

  it('masks a mainland mobile number as 138****5678', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
  });
});
