/*
 * Lookups that carry no month, routed through the key tables (docs/SCALE.md "Partitions by
 * month"). receipts and refunds are partitioned by month (paid_at, refunded_at), and their
 * global keys live in receipt_keys (provider, trade_no → receipt_id, paid_at) and refund_keys
 * (provider, refund_no → refund_id, refunded_at). A lookup by id or by provider key alone
 * probes one index per partition; pinning the partition key to the key table's value (a
 * subquery, evaluated once before the scan) lets PostgreSQL prune at run time: the key
 * table's index, then one partition (EXPLAIN ANALYZE shows the others "never executed").
 * The key table holds the partition key as it was written; the key guard trigger refuses any
 * change to it.
 */

/** `alias.paid_at` pinned to the month of receipt `id` (an SQL expression: a parameter). */
export function receiptMonthById(alias: string, id: string): string {
  return `${alias}.paid_at = (SELECT k.paid_at FROM receipt_keys k WHERE k.receipt_id = ${id})`;
}

/** `alias.paid_at` pinned to the month of the receipt with this provider key. */
export function receiptMonthByKey(alias: string, provider: string, tradeNo: string): string {
  return `${alias}.paid_at = (SELECT k.paid_at FROM receipt_keys k
                               WHERE k.provider = ${provider} AND k.trade_no = ${tradeNo})`;
}

/** `alias.refunded_at` pinned to the month of the refund with this provider key. */
export function refundMonthByKey(alias: string, provider: string, refundNo: string): string {
  return `${alias}.refunded_at = (SELECT k.refunded_at FROM refund_keys k
                                   WHERE k.provider = ${provider} AND k.refund_no = ${refundNo})`;
}
