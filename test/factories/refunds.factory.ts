/* Refund notifications for the refund routes, signed with the test app's keys. */
import { randomBytes } from 'node:crypto';
import { signHmac } from '../../libs/receipts/src/verifiers/test-signers';
import type { TestApp } from '../helpers/test-app';
import { HMAC_SECRET } from '../helpers/test-app';

/** A generic refund body; override any field. */
export function genericRefund(tradeNo: string, overrides: Record<string, unknown> = {}) {
  return {
    provider: 'sunmi-pos',
    tradeNo,
    refundNo: `RF${randomBytes(6).toString('hex')}`,
    amountMinor: 3000,
    currency: 'CNY',
    refundedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** POST /v1/refunds, HMAC-signed with the test secret unless `signature` is given (null: none). */
export function postRefund(t: TestApp, body: string | object, signature?: string | null) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const req = t.http.post('/v1/refunds').set('content-type', 'application/json');
  const sig = signature === undefined ? signHmac(raw, HMAC_SECRET) : signature;
  if (sig !== null) req.set('x-hejie-signature', sig);
  return req.send(raw);
}

/** Asia/Shanghai 'YYYY-MM-DD HH:mm:ss' for an Alipay field. */
export function shanghaiLocal(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
