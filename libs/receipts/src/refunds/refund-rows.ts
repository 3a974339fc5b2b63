/*
 * A refund as stored and as shown, the refunds' advisory locks (the gate, the trades' buckets),
 * and a refund's fingerprint: what the single refund (RefundsService.record) and the batch
 * (refund-batch.ts) share.
 */
import { createHash } from 'node:crypto';
import type { NormalizedRefund } from './normalized-refund';

export interface RefundView {
  id: string;
  provider: string;
  tradeNo: string;
  refundNo: string;
  /** The receipt it refunds, once both are known (a refund may arrive first). */
  receiptId: string | null;
  amountMinor: number;
  currency: string;
  refundedAt: string;
  receivedAt: string;
}

export interface RefundRow {
  id: string;
  provider: string;
  trade_no: string;
  refund_no: string;
  receipt_id: string | null;
  amount_minor: string;
  currency: string;
  refunded_at: Date;
  received_at: Date;
  fingerprint: string;
}

export function toView(r: RefundRow): RefundView {
  return {
    id: r.id,
    provider: r.provider,
    tradeNo: r.trade_no,
    refundNo: r.refund_no,
    receiptId: r.receipt_id,
    amountMinor: Number(r.amount_minor),
    currency: r.currency.trim(),
    refundedAt: r.refunded_at.toISOString(),
    receivedAt: r.received_at.toISOString(),
  };
}

/**
 * Trades share this many advisory locks (by hash): a single refund holds its trade's bucket
 * (and the gate, shared) to its commit; two trades in one bucket merely wait for each other.
 */
export const REFUND_LOCK_BUCKETS = 1024;

/** The refunds' namespace of advisory locks (the first int4 key). */
const REFUND_LOCK_SPACE = 0x72656664; // 'refd'

/** The gate's second key (the buckets are 0 … REFUND_LOCK_BUCKETS - 1). */
const REFUND_GATE = -1;

/**
 * The refunds' gate, an advisory lock every refund writer takes first, to its commit: a single
 * refund shared (then its trade's bucket, exclusively), a batch exclusively (and nothing else).
 * So a batch — whatever its size, one lock in PostgreSQL's small lock table
 * (max_locks_per_transaction × connections), where a lock per trade, or per bucket of trades,
 * made large batches fail with "out of shared memory" — sees and writes every trade alone, and
 * batches queue rather than deadlock. The cost: single refunds wait while a batch runs (they did
 * already: a chunk of 2,000 trades held most of the 1,024 buckets).
 */
export function refundGateLock(mode: 'shared' | 'exclusive'): string {
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  const [space, key] = refundGateKey();
  return `SELECT ${fn}(${space}, ${key})`;
}

/** The two int4 keys of the refunds' gate (hejie_record_refund takes it shared). */
export function refundGateKey(): [number, number] {
  return [REFUND_LOCK_SPACE, REFUND_GATE];
}

/**
 * The two int4 keys of the advisory lock of a trade's bucket, from sha256 (computed here,
 * inlined as numbers): the same for single refunds and batches.
 */
export function tradeLockKey(provider: string, tradeNo: string): [number, number] {
  const h = createHash('sha256').update(`refund\u0000${provider}\u0000${tradeNo}`).digest();
  return [REFUND_LOCK_SPACE, h.readUInt32BE(0) % REFUND_LOCK_BUCKETS];
}

/** to_jsonb(refunds.*) back to the row shape. */
export function reviveRefund(j: RefundRow): RefundRow {
  return {
    ...j,
    amount_minor: String(j.amount_minor),
    refunded_at: new Date(j.refunded_at),
    received_at: new Date(j.received_at),
  };
}

/** sha256 of the facts as the provider stated them (Alipay: the running total, not the delta). */
export function refundFingerprint(r: NormalizedRefund): string {
  const facts = [
    r.provider,
    r.tradeNo,
    r.refundNo,
    r.amountMinor ?? null,
    r.refundedTotalMinor ?? null,
    r.currency,
    r.refundedAt.toISOString(),
  ];
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex');
}
