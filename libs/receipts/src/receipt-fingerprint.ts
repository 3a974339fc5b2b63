import { createHash } from 'node:crypto';
import type { NormalizedReceipt } from './verifiers';

/**
 * The facts of a receipt, hashed: a re-delivery (same facts) is told from a conflicting payload
 * under the same (provider, tradeNo) by this.
 */
export function receiptFingerprint(r: NormalizedReceipt): string {
  const facts = [
    r.provider,
    r.tradeNo,
    r.payerId,
    r.accountId,
    r.amountMinor,
    r.currency,
    r.paidAt.toISOString(),
    r.subject,
    r.items === undefined ? null : r.items,
  ];
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex');
}
