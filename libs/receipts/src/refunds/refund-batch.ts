/*
 * POST /v1/refunds/batch: COPY through a staging table, chunk by chunk, in one transaction, with
 * the rules of a single refund line by line (RefundsService.recordBatch).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { DEADLOCK_DETECTED, UNIQUE_VIOLATION } from '@app/shared';
import { StagedChunk, chunkedCopyTransaction, goodLines, retryOnDeadlock } from '../batch-tx';
import type { BatchCounts, GoodLine, SignedBatchLine } from '../batch-tx';
import { copyText } from '../copy-in';
import type { NormalizedRefund } from './normalized-refund';
import {
  RefundRow,
  RefundView,
  refundFingerprint,
  refundGateLock,
  reviveRefund,
  toView,
} from './refund-rows';

/** One line of a refund batch (signedBatchLines): its refund and raw text, or why not. */
export type RefundBatchLine = SignedBatchLine<NormalizedRefund>;

/** POST /v1/refunds/batch: the response's counts, and the refunds to tell the tickets about. */
export interface RefundBatchResult extends BatchCounts {
  /**
   * The batch's refunds (new or repeated) whose payment is known (matched to a receipt), after
   * COMMIT, in body order, each once: the caller tells the complaints lib, which picks those
   * whose payment has a ticket, as after a single refund. Not part of the response.
   */
  matched: RefundView[];
}

/** Lines of a refund batch staged, checked and stored at a time. */
export const REFUND_BATCH_CHUNK_LINES = 2000;

/**
 * With BEGIN: the refunds' gate, exclusively (refundGateLock: single refunds hold it shared with
 * their trade's lock), so every statement after it sees every refund committed before and none
 * is written meanwhile; then the staging table. One lock for the whole batch, whatever its size:
 * no lock per trade or bucket (a lock per trade made a 50,000-line batch fail with "out of shared
 * memory"; 1,024 buckets a batch could still fill the lock table with a few batches at once),
 * and no deadlock between batches (one lock, taken first). JIT off for the transaction: its
 * statements are index probes per staged line, which the planner costs by the staging table's
 * missing statistics and the tables' sizes — past jit_above_cost, so PostgreSQL compiled the
 * read of what is stored for every chunk (45 ms of its 88 ms per 2,000 lines; past
 * jit_optimize_above_cost / jit_inline_above_cost at a million refunds, more), for nothing.
 */
const BEGIN_REFUND_BATCH = `${refundGateLock('exclusive')};
  SET LOCAL jit = off;
  CREATE TEMP TABLE refund_batch_staging (
    line int NOT NULL, id uuid NOT NULL, provider text NOT NULL, trade_no text NOT NULL,
    refund_no text NOT NULL, amount_minor bigint NOT NULL, currency text NOT NULL,
    refunded_at timestamptz NOT NULL, fingerprint text NOT NULL, raw text NOT NULL
  ) ON COMMIT DROP`;

const COPY_REFUND_STAGING = `COPY refund_batch_staging (line, id, provider, trade_no, refund_no,
    amount_minor, currency, refunded_at, fingerprint, raw) FROM STDIN`;

/**
 * After a chunk was staged, in one round trip: the refund already stored under each line's key
 * (through refund_keys: one probe, then the one partition), per trade its receipt (through
 * receipt_keys) and the sum refunded so far, and the `received_at` of the refunds this
 * transaction stores (the column's default, now(), as stored). Every lookup is a LATERAL … LIMIT 1 or a scalar
 * subquery, i.e. an index probe per staged line: the staging table has no statistics, and a
 * join the planner would choose could read whole tables per chunk.
 */
const READ_STORED = `
  SELECT s.line, f.refund
    FROM refund_batch_staging s
    CROSS JOIN LATERAL (
      SELECT to_jsonb(f.*) - 'raw' AS refund
        FROM refund_keys k
        JOIN refunds f ON f.id = k.refund_id AND f.refunded_at = k.refunded_at
       WHERE k.provider = s.provider AND k.refund_no = s.refund_no
       LIMIT 1) f;
  SELECT t.provider, t.trade_no, rc.id AS receipt_id, rc.amount_minor AS paid,
         rtrim(rc.currency) AS currency,
         (SELECT coalesce(sum(f.amount_minor), 0) FROM refunds f
           WHERE f.provider = t.provider AND f.trade_no = t.trade_no) AS recorded
    FROM (SELECT DISTINCT provider, trade_no FROM refund_batch_staging) t
    LEFT JOIN LATERAL (
      SELECT r.id, r.amount_minor, r.currency
        FROM receipt_keys k
        JOIN receipts r ON r.id = k.receipt_id AND r.paid_at = k.paid_at
       WHERE k.provider = t.provider AND k.trade_no = t.trade_no
       LIMIT 1) rc ON true;
  SELECT now()::timestamptz(3) AS now`;

/**
 * The accepted lines ($1, with their receipt or null: $2) → refunds, under the ids staged. A
 * plain INSERT: the table's key trigger claims the keys (refund_keys, the global unique key of
 * the partitioned table, docs/SCALE.md "Partitions by month"), once. No key can be taken: the
 * keys stored were read under the gate and their lines are not accepted, and no refund writer of
 * this code runs meanwhile — a writer outside the gate that took one makes the trigger raise a
 * unique violation, and the batch runs again (it then finds that refund stored).
 */
const INSERT_REFUNDS = `
  INSERT INTO refunds (id, provider, refund_no, trade_no, receipt_id, amount_minor, currency,
                       refunded_at, fingerprint, raw, raw_content_type)
  SELECT s.id, s.provider, s.refund_no, s.trade_no, a.receipt_id, s.amount_minor, s.currency,
         s.refunded_at, s.fingerprint, s.raw, $3
    FROM unnest($1::int[], $2::uuid[]) AS a(line, receipt_id)
    JOIN refund_batch_staging s ON s.line = a.line`;

interface TradeState {
  receiptId: string | null;
  paid: number | null;
  currency: string | null;
  recorded: number;
}

type Staged = GoodLine<NormalizedRefund>;

interface StagedRefunds {
  lines: Staged[];
  ids: string[];
  fingerprints: string[];
}

/** A chunk's staging rows (COPY text), each under a new id (used if it is stored). */
function stagingRows(lines: Staged[]): StagedChunk<StagedRefunds> {
  const ids: string[] = [];
  const fingerprints: string[] = [];
  let rows = '';
  for (const { line, item: r, raw } of lines) {
    const id = randomUUID();
    const fingerprint = refundFingerprint(r);
    ids.push(id);
    fingerprints.push(fingerprint);
    rows +=
      `${line}\t${id}\t${copyText(r.provider)}\t${copyText(r.tradeNo)}\t${copyText(r.refundNo)}` +
      `\t${r.amountMinor ?? 0}\t${copyText(r.currency)}\t${r.refundedAt.toISOString()}` +
      `\t${fingerprint}\t${copyText(raw)}\n`;
  }
  return { rows, context: { lines, ids, fingerprints } };
}

/** What the batch keeps from chunk to chunk. */
interface BatchState {
  result: RefundBatchResult;
  /** Key → fingerprint of the refund stored (or accepted earlier in this body) under it. */
  byKey: Map<string, string>;
  /** Key → the view of the batch's refund under it (stored or accepted), receipt known. */
  views: Map<string, RefundView>;
  /** Ids already in result.matched. */
  matchedIds: Set<string>;
}

export class RefundBatchImport {
  constructor(
    private readonly db: DataSource,
    private readonly logger: Logger,
  ) {}

  /**
   * POST /v1/refunds/batch, in one transaction, with the rules of record() line by line in
   * body order: idempotent on (provider, refundNo) (the same facts again: a duplicate; other
   * facts: RECEIPT_CONFLICT), matched to its receipt when known, never past the amount paid
   * (REFUND_EXCEEDS_PAYMENT) nor in another currency (VALIDATION_FAILED) — a refused line counts
   * for nothing, as a refused single refund. Under the refunds' gate (exclusive: single refunds
   * wait for the batch to commit), REFUND_BATCH_CHUNK_LINES at a time: COPY into a staging table,
   * one read of what is stored, the decisions here, one INSERT … SELECT of the accepted lines.
   * A deadlock (with a receipt batch matching refunds), or a key taken by a writer outside the
   * gate (INSERT_REFUNDS), runs the whole batch again (a fresh iterable: a factory).
   */
  run(lines: () => Iterable<RefundBatchLine>, contentType: string): Promise<RefundBatchResult> {
    return retryOnDeadlock(
      () => this.recordBatchOnce(lines(), contentType),
      this.logger,
      'refund batch',
      [DEADLOCK_DETECTED, UNIQUE_VIOLATION],
    );
  }

  private async recordBatchOnce(
    lines: Iterable<RefundBatchLine>,
    contentType: string,
  ): Promise<RefundBatchResult> {
    const state: BatchState = {
      result: { created: 0, duplicates: 0, rejected: [], matched: [] },
      byKey: new Map(),
      views: new Map(),
      matchedIds: new Set(),
    };
    await chunkedCopyTransaction<Staged, StagedRefunds>(this.db, {
      begin: BEGIN_REFUND_BATCH,
      copy: COPY_REFUND_STAGING,
      chunkLines: REFUND_BATCH_CHUNK_LINES,
      lines: goodLines(lines, state.result),
      prepare: stagingRows,
      store: (client, staged) => this.storeRefundChunk(client, staged, contentType, state),
    });
    state.result.rejected.sort((a, b) => a.line - b.line);
    return state.result;
  }

  /** One staged chunk: read what is stored, decide each line in body order, insert. */
  private async storeRefundChunk(
    client: PoolClient,
    { lines: chunk, ids, fingerprints }: StagedRefunds,
    contentType: string,
    { result, byKey, views, matchedIds }: BatchState,
  ): Promise<void> {
    const [storedRes, tradesRes, nowRes] = (await client.query(READ_STORED)) as unknown as [
      { rows: { line: number; refund: RefundRow }[] },
      { rows: Record<string, string | null>[] },
      { rows: { now: Date }[] },
    ];
    const receivedAt = nowRes.rows[0].now;
    const storedByLine = new Map(storedRes.rows.map((r) => [r.line, reviveRefund(r.refund)]));
    const trades = new Map<string, TradeState>(
      tradesRes.rows.map((r) => [
        `${r.provider}\u0000${r.trade_no}`,
        {
          receiptId: r.receipt_id,
          paid: r.paid === null ? null : Number(r.paid),
          currency: r.currency,
          recorded: Number(r.recorded),
        },
      ]),
    );
    // Keys of the lines (new or repeated) whose refund's payment is known, in body order.
    const shown: string[] = [];
    const accepted: number[] = [];
    const receiptOf: (string | null)[] = [];
    chunk.forEach(({ line, item: r }, i) => {
      const key = `${r.provider}\u0000${r.refundNo}`;
      const trade = trades.get(`${r.provider}\u0000${r.tradeNo}`);
      const receiptId = trade?.receiptId ?? null;
      const stored = storedByLine.get(line);
      const earlier = byKey.get(key) ?? stored?.fingerprint;
      if (earlier !== undefined) {
        if (earlier !== fingerprints[i]) {
          result.rejected.push({ line, code: 'RECEIPT_CONFLICT' });
          return;
        }
        result.duplicates++;
        if (stored && receiptId && !views.has(key)) {
          views.set(key, toView({ ...stored, receipt_id: receiptId }));
        }
        byKey.set(key, earlier);
        if (receiptId) shown.push(key);
        return;
      }
      const amount = r.amountMinor ?? 0;
      if (trade && trade.paid !== null) {
        if (trade.currency !== r.currency) {
          result.rejected.push({
            line,
            code: 'VALIDATION_FAILED',
            detail: `the refund is in ${r.currency}, the payment in ${trade.currency}`,
          });
          return;
        }
        if (trade.recorded + amount > trade.paid) {
          result.rejected.push({
            line,
            code: 'REFUND_EXCEEDS_PAYMENT',
            detail: `refunds of ${trade.recorded + amount} would exceed the ${trade.paid} paid for trade ${r.tradeNo}`,
          });
          return;
        }
      }
      if (trade) trade.recorded += amount;
      byKey.set(key, fingerprints[i]);
      accepted.push(line);
      receiptOf.push(receiptId);
      if (receiptId) {
        views.set(key, {
          id: ids[i],
          provider: r.provider,
          tradeNo: r.tradeNo,
          refundNo: r.refundNo,
          receiptId,
          amountMinor: amount,
          currency: r.currency,
          refundedAt: r.refundedAt.toISOString(),
          receivedAt: receivedAt.toISOString(),
        });
        shown.push(key);
      }
    });
    if (accepted.length) {
      const { rowCount } = await client.query(INSERT_REFUNDS, [accepted, receiptOf, contentType]);
      result.created += rowCount ?? 0;
    }
    await client.query('TRUNCATE refund_batch_staging');
    for (const key of shown) {
      const view = views.get(key);
      if (view && !matchedIds.has(view.id)) {
        matchedIds.add(view.id);
        result.matched.push(view);
      }
    }
  }
}
