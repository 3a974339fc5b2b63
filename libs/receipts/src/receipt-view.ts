import { regionNameOrNull } from '@app/directory';

/**
 * A receipt as the API shows it. Whether a ticket was opened from it is the complaints lib's to
 * say (its `complaints` table): the API adds `complaintId` (TicketReads.idsByReceipt).
 */
export interface ReceiptView {
  id: string;
  provider: string;
  tradeNo: string;
  payerId: string;
  accountId: string;
  merchantId: string | null;
  storeId: string | null;
  regionCode: string | null;
  /** The name of regionCode (GB/T 2260), the code when unknown, null without a store. */
  regionName: string | null;
  amountMinor: number;
  currency: string;
  paidAt: string;
  subject: string;
  items: unknown;
  /** Refunds recorded for this payment, never more than the amount paid. */
  refundedMinor: number;
  receivedAt: string;
}

export interface ReceiptRow {
  id: string;
  provider: string;
  trade_no: string;
  payer_id: string;
  account_id: string;
  merchant_id: string | null;
  store_id: string | null;
  region_code: string | null;
  amount_minor: string;
  currency: string;
  paid_at: Date;
  subject: string;
  items: unknown;
  refunded_minor: string;
  received_at: Date;
}

export const SELECT_RECEIPT = `
  SELECT r.id, r.provider, r.trade_no, r.payer_id, r.account_id, r.merchant_id, r.store_id, r.region_code,
         r.amount_minor, r.currency, r.paid_at, r.subject, r.items, r.received_at,
         LEAST(r.amount_minor, (SELECT coalesce(sum(f.amount_minor), 0) FROM refunds f
                                 WHERE f.provider = r.provider AND f.trade_no = r.trade_no))
           AS refunded_minor
    FROM receipts r`;

export function toView(r: ReceiptRow): ReceiptView {
  return {
    id: r.id,
    provider: r.provider,
    tradeNo: r.trade_no,
    payerId: r.payer_id,
    accountId: r.account_id,
    merchantId: r.merchant_id,
    storeId: r.store_id,
    regionCode: r.region_code,
    regionName: regionNameOrNull(r.region_code),
    amountMinor: Number(r.amount_minor),
    currency: r.currency,
    paidAt: r.paid_at.toISOString(),
    subject: r.subject,
    items: r.items ?? null,
    refundedMinor: Number(r.refunded_minor),
    receivedAt: r.received_at.toISOString(),
  };
}
