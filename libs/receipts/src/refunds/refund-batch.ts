/*
 * POST /v1/refunds/batch: chunk by chunk in one transaction, what is stored read by the chunk's
 * keys, the rules of a single refund applied line by line (RefundsService.recordBatch), and the
 * accepted lines COPied into `refunds`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { DEADLOCK_DETECTED, UNIQUE_VIOLATION } from '@app/shared';
import { StagedChunk, chunkedCopyTransaction, goodLines, retryOnDeadlock } from '../batch-tx';
import type { BatchCounts, GoodLine, SignedBatchLine } from '../batch-tx';
import { copyIn, copyText } from '../copy-in';
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
 * is written meanwhile. One lock for the whole batch, whatever its size: no lock per trade or
 * bucket (a lock per trade made a 50,000-line batch fail with "out of shared memory"; 1,024
 * buckets a batch could still fill the lock table with a few batches at once), and no deadlock
 * between batches (one lock, taken first). JIT off for the transaction: its reads are index
 * probes per line or per trade, which the planner may cost past jit_above_cost by the tables'
 * sizes — PostgreSQL compiled the read of what is stored for every chunk (45 ms of its 88 ms
 * per 2,000 lines; past jit_optimize_above_cost / jit_inline_above_cost at a million refunds,
 * more), for nothing. No staging table: the reads take the chunk's keys as arrays.
 */
const BEGIN_REFUND_BATCH = `${refundGateLock('exclusive')};
  SET LOCAL jit = off`;

/**
 * The refund stored under each line's key ($1 providers, $2 refund numbers, one element a line):
 * through refund_keys (one probe a line), then the one partition. `i` is the line's place in the
 * arrays (from 1). A LATERAL … LIMIT 1 forces the probe per line: a join the planner chose could
 * read the whole key table per chunk.
 */
const READ_STORED = `
  SELECT s.i::int AS i, f.refund
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(provider, refund_no, i)
    CROSS JOIN LATERAL (
      SELECT to_jsonb(f.*) - 'raw' AS refund
        FROM refund_keys k
        JOIN refunds f ON f.id = k.refund_id AND f.refunded_at = k.refunded_at
       WHERE k.provider = s.provider AND k.refund_no = s.refund_no
       LIMIT 1) f`;

/**
 * Each trade's receipt ($1 providers, $2 trade numbers, one element a distinct trade), through
 * receipt_keys and the one partition's primary key, and for those with a receipt (the cap applies
 * to them only) the sum refunded so far; `i` as in READ_STORED. Trades without a receipt are
 * absent. Per trade: a probe of the key, of the receipt, and of each month's partition of
 * `refunds` by `(provider, trade_no)`. Not one `trade_no = ANY(…)` scan for the whole chunk: on
 * a million refunds the planner read the partitions through another index (317 ms a chunk
 * against 23 ms for the probes per trade; docs/PERFORMANCE.md "Refund batch at 1,000,000 lines").
 */
const READ_TRADES = `
  SELECT s.i::int AS i, rc.id AS receipt_id, rc.amount_minor AS paid, rtrim(rc.currency) AS currency,
         (SELECT coalesce(sum(f.amount_minor), 0) FROM refunds f
           WHERE f.provider = s.provider AND f.trade_no = s.trade_no) AS recorded
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(provider, trade_no, i)
    CROSS JOIN LATERAL (
      SELECT r.id, r.amount_minor, r.currency
        FROM receipt_keys k
        JOIN receipts r ON r.id = k.receipt_id AND r.paid_at = k.paid_at
       WHERE k.provider = s.provider AND k.trade_no = s.trade_no
       LIMIT 1) rc`;

/**
 * The accepted lines, straight into `refunds` (no staging table, no INSERT … SELECT). The
 * table's key trigger claims their keys (refund_keys, the global unique key of the partitioned
 * table, docs/SCALE.md "Partitions by month"), once, as for any COPY. No key can be taken: the
 * keys stored were read under the gate and their lines are not accepted, and no refund writer
 * of this code runs meanwhile — a writer outside the gate that took one makes the trigger raise
 * a unique violation, and the batch runs again (it then finds that refund stored).
 * `received_at` is the column's default, now(): the transaction's start, read once (NOW).
 */
const COPY_REFUNDS = `COPY refunds (id, provider, refund_no, trade_no, receipt_id, amount_minor,
    currency, refunded_at, fingerprint, raw, raw_content_type) FROM STDIN`;

/** The transaction's now() as `received_at` stores it. */
const NOW = `SELECT now()::timestamptz(3) AS now`;

interface TradeState {
  receiptId: string | null;
  paid: number | null;
  currency: string | null;
  recorded: number;
}

type Staged = GoodLine<NormalizedRefund>;

interface PreparedRefunds {
  lines: Staged[];
  ids: string[];
  fingerprints: string[];
  /** Each line's COPY text up to its receipt_id (id, provider, refund_no, trade_no). */
  heads: string[];
  /** … and after it (amount … raw_content_type, newline). */
  tails: string[];
}

/**
 * A chunk's lines, each under a new id (used if it is stored), with its fingerprint and its COPY
 * row for `refunds` around the receipt (known after the reads).
 */
function prepareRefunds(lines: Staged[], contentType: string): StagedChunk<PreparedRefunds> {
  const ids: string[] = [];
  const fingerprints: string[] = [];
  const heads: string[] = [];
  const tails: string[] = [];
  const type = copyText(contentType);
  for (const { item: r, raw } of lines) {
    const id = randomUUID();
    const fingerprint = refundFingerprint(r);
    ids.push(id);
    fingerprints.push(fingerprint);
    heads.push(`${id}\t${copyText(r.provider)}\t${copyText(r.refundNo)}\t${copyText(r.tradeNo)}\t`);
    tails.push(
      `\t${r.amountMinor ?? 0}\t${copyText(r.currency)}\t${r.refundedAt.toISOString()}` +
        `\t${fingerprint}\t${copyText(raw)}\t${type}\n`,
    );
  }
  return { rows: '', context: { lines, ids, fingerprints, heads, tails } };
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
  /** The transaction's now() (`received_at` of the refunds it stores), read with the first chunk. */
  receivedAt?: Date;
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
   * wait for the batch to commit), REFUND_BATCH_CHUNK_LINES at a time: the reads of what is
   * stored by the chunk's keys (arrays), the decisions here, one COPY of the accepted lines into
   * `refunds`. A deadlock (with a receipt batch matching refunds), or a key taken by a writer
   * outside the gate (COPY_REFUNDS), runs the whole batch again (a fresh iterable: a factory).
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
    await chunkedCopyTransaction<Staged, PreparedRefunds>(this.db, {
      begin: BEGIN_REFUND_BATCH,
      copy: null,
      chunkLines: REFUND_BATCH_CHUNK_LINES,
      lines: goodLines(lines, state.result),
      prepare: (chunk) => prepareRefunds(chunk, contentType),
      store: (client, prepared) => this.storeRefundChunk(client, prepared, state),
    });
    state.result.rejected.sort((a, b) => a.line - b.line);
    return state.result;
  }

  /**
   * The chunk's state in PostgreSQL, by key arrays, in two statements: the refunds stored under
   * its keys (by the line's place in the chunk), its trades' receipts and, for those with a
   * receipt, the sums refunded so far (every refund of the trade committed before, and this batch's earlier
   * chunks: the reads follow their COPY on the client).
   */
  private async readChunk(
    client: PoolClient,
    chunk: Staged[],
    state: BatchState,
  ): Promise<{ storedAt: Map<number, RefundRow>; trades: Map<string, TradeState> }> {
    state.receivedAt ??= ((await client.query(NOW)) as { rows: { now: Date }[] }).rows[0].now;
    const storedRes = await client.query<{ i: number; refund: RefundRow }>(READ_STORED, [
      chunk.map((l) => l.item.provider),
      chunk.map((l) => l.item.refundNo),
    ]);
    const storedAt = new Map(storedRes.rows.map((r) => [r.i - 1, reviveRefund(r.refund)]));
    const trades = new Map<string, TradeState>();
    const tradeKeys: [string, string][] = [];
    for (const { item: r } of chunk) {
      const key = `${r.provider}\u0000${r.tradeNo}`;
      if (trades.has(key)) continue;
      trades.set(key, { receiptId: null, paid: null, currency: null, recorded: 0 });
      tradeKeys.push([r.provider, r.tradeNo]);
    }
    const tradesRes = await client.query<{
      i: number;
      receipt_id: string;
      paid: string;
      currency: string;
      recorded: string;
    }>(READ_TRADES, [tradeKeys.map((t) => t[0]), tradeKeys.map((t) => t[1])]);
    for (const r of tradesRes.rows) {
      const [provider, tradeNo] = tradeKeys[r.i - 1];
      const trade = trades.get(`${provider}\u0000${tradeNo}`) as TradeState;
      trade.receiptId = r.receipt_id;
      trade.paid = Number(r.paid);
      trade.currency = r.currency;
      trade.recorded = Number(r.recorded);
    }
    return { storedAt, trades };
  }

  /** One chunk: read what is stored, decide each line in body order, COPY the accepted ones. */
  private async storeRefundChunk(
    client: PoolClient,
    { lines: chunk, ids, fingerprints, heads, tails }: PreparedRefunds,
    state: BatchState,
  ): Promise<void> {
    const { result, byKey, views, matchedIds } = state;
    const { storedAt, trades } = await this.readChunk(client, chunk, state);
    const receivedAt = (state.receivedAt as Date).toISOString();
    // Keys of the lines (new or repeated) whose refund's payment is known, in body order.
    const shown: string[] = [];
    let rows = '';
    let accepted = 0;
    chunk.forEach(({ line, item: r }, i) => {
      const key = `${r.provider}\u0000${r.refundNo}`;
      const trade = trades.get(`${r.provider}\u0000${r.tradeNo}`);
      const receiptId = trade?.receiptId ?? null;
      const stored = storedAt.get(i);
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
      rows += heads[i] + (receiptId ?? '\\N') + tails[i];
      accepted++;
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
          receivedAt,
        });
        shown.push(key);
      }
    });
    if (accepted) result.created += await copyIn(client, COPY_REFUNDS, rows);
    for (const key of shown) {
      const view = views.get(key);
      if (view && !matchedIds.has(view.id)) {
        matchedIds.add(view.id);
        result.matched.push(view);
      }
    }
  }
}
