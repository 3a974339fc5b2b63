/** A payment notification after signature verification, in one provider-neutral shape. */
export interface NormalizedReceipt {
  /** 'alipay' | 'wechatpay' | a generic provider name. */
  provider: string;
  tradeNo: string;
  /** Provider-scoped: 'alipay:<buyer_id>', 'wechatpay:<openid>', '<provider>:<payerId>'. */
  payerId: string;
  /** Payee account: Alipay seller_id, WeChat Pay mchid, generic accountId. */
  accountId: string;
  /** Integer minor units (fen), never computed through a float. */
  amountMinor: number;
  /** ISO 4217, e.g. 'CNY'. */
  currency: string;
  paidAt: Date;
  subject: string;
  items?: unknown;
}

import type { NormalizedRefund } from '../refunds/normalized-refund';

/**
 * A notification as it came in: its text (WeChat Pay's with the signed headers, which the
 * signature covers) and content type, the evidence stored with the receipt or refund it reports.
 */
export interface Received {
  raw: string;
  contentType: string;
}

/**
 * 'ignored' = correctly signed, but not a successful payment (nothing to store, still
 * acknowledge); 'refund' = a refund the provider reports (stored in refunds, not receipts).
 */
export type VerifyOutcome =
  | { kind: 'receipt'; receipt: NormalizedReceipt }
  | { kind: 'refund'; refund: NormalizedRefund }
  | { kind: 'ignored'; reason: string };
