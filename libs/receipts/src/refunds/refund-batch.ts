/*
 * POST /v1/refunds/batch: COPY through a staging table, chunk by chunk, in one transaction, with
 * the rules of a single refund line by line (RefundsService.recordBatch).
 */
import type { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { obtainClient, retryOnDeadlock } from '../batch-tx';
import { copyIn, copyText } from '../copy-in';
import type { NormalizedRefund } from './normalized-refund';
import {
  RefundRow,
  RefundView,
  refundFingerprint,
  reviveRefund,
  toView,
  tradeLockKey,
} from './refund-rows';

/** One line of a refund batch (signedBatchLines): its refund and raw text, or why not. */
export interface RefundBatchLine {
  line: number;
  item?: NormalizedRefund;
  raw?: string;
  code?: string;
  detail?: string;
}

/** POST /v1/refunds/batch: the response's counts, and the refunds to tell the tickets about. */
export interface RefundBatchResult {
  created: number;
  duplicates: number;
  rejected: { line: number; code: string; detail?: string }[];
  /**
   * The batch's refunds (new or repeated) whose payment is known (matched to a receipt), after
   * COMMIT: the caller tells the complaints lib, which picks those whose payment has a ticket,
   * as after a single refund. Not part of the response.
   */
  matched: RefundView[];
}

/** Lines of a refund batch staged, checked and stored at a time. */
export const REFUND_BATCH_CHUNK_LINES = 2000;

const CREATE_REFUND_STAGING = `CREATE TEMP TABLE refund_batch_staging (
    line int NOT NULL, provider text NOT NULL, trade_no text NOT NULL, refund_no text NOT NULL,
    amount_minor bigint NOT NULL, currency text NOT NULL, refunded_at timestamptz NOT NULL,
    fingerprint text NOT NULL, raw text NOT NULL, k1 int NOT NULL, k2 int NOT NULL
  ) ON COMMIT DROP`;

const COPY_REFUND_STAGING = `COPY refund_batch_staging (line, provider, trade_no, refund_no,
    amount_minor, currency, refunded_at, fingerprint, raw, k1, k2) FROM STDIN`;

/**
 * After a chunk was staged, in one round trip: the advisory locks of its trades' buckets (the
 * same as a single refund takes, in key order so that concurrent batches queue rather than
 * deadlock within a chunk), then, each statement with a snapshot taken after the locks were granted,
 * the refunds already stored under the chunk's keys, and per trade the payment and the sum
 * refunded so far.
 */
const LOCK_AND_READ = `
  SELECT count(pg_advisory_xact_lock(k1, k2))
    FROM (SELECT DISTINCT k1, k2 FROM refund_batch_staging ORDER BY k1, k2) k;
  SELECT s.line, f.fingerprint::text AS stored
    FROM refund_batch_staging s
    JOIN refunds f ON f.provider = s.provider AND f.refund_no = s.refund_no;
  SELECT t.provider, t.trade_no, r.amount_minor AS paid, rtrim(r.currency) AS currency,
         (SELECT coalesce(sum(f.amount_minor), 0) FROM refunds f
           WHERE f.provider = t.provider AND f.trade_no = t.trade_no) AS recorded
    FROM (SELECT DISTINCT provider, trade_no FROM refund_batch_staging) t
    LEFT JOIN receipts r ON r.provider = t.provider AND r.trade_no = t.trade_no`;

/**
 * The accepted lines ($1) → refunds, matched to their receipt; the lines not inserted. Each key
 * is claimed first in refund_keys (the global unique key of the partitioned table, docs/SCALE.md
 * "Partitions by month") with `ON CONFLICT DO NOTHING`, in key order; only the refunds whose key
 * this statement claimed are stored, under the claimed id.
 */
const INSERT_REFUNDS_FROM_STAGING = `
  WITH t AS (
    SELECT gen_random_uuid() AS id, s.* FROM refund_batch_staging s WHERE s.line = ANY($1::int[])),
  k AS (
    INSERT INTO refund_keys (provider, refund_no, refund_id, refunded_at)
    SELECT provider, refund_no, id, refunded_at FROM t ORDER BY provider, refund_no
    ON CONFLICT (provider, refund_no) DO NOTHING
    RETURNING refund_id),
  ins AS (
    INSERT INTO refunds (id, provider, refund_no, trade_no, receipt_id, amount_minor, currency,
                         refunded_at, fingerprint, raw, raw_content_type)
    SELECT t.id, t.provider, t.refund_no, t.trade_no,
           (SELECT r.id FROM receipts r WHERE r.provider = t.provider AND r.trade_no = t.trade_no),
           t.amount_minor, t.currency, t.refunded_at, t.fingerprint, t.raw, $2
      FROM t JOIN k ON k.refund_id = t.id
    RETURNING provider, refund_no)
  SELECT s.line, f.fingerprint::text AS stored
    FROM refund_batch_staging s
    LEFT JOIN refunds f ON f.provider = s.provider AND f.refund_no = s.refund_no
   WHERE s.line = ANY($1::int[])
     AND NOT EXISTS (SELECT 1 FROM ins WHERE ins.provider = s.provider AND ins.refund_no = s.refund_no)`;

/**
 * The chunk's refunds as stored (new or repeated: same fingerprint) whose payment is known, with
 * the receipt they belong to, in body order; then the staging table is emptied for the next
 * chunk. (Whether the payment has a ticket is the complaints lib's to say.)
 */
const MATCHED_AND_TRUNCATE = `
  SELECT refund, receipt_id FROM (
    SELECT DISTINCT ON (f.id) to_jsonb(f.*) - 'raw' AS refund, r.id AS receipt_id, s.line
      FROM refund_batch_staging s
      JOIN refunds f ON f.provider = s.provider AND f.refund_no = s.refund_no
                    AND f.fingerprint = s.fingerprint
      JOIN receipts r ON r.provider = f.provider AND r.trade_no = f.trade_no
     ORDER BY f.id, s.line) x
   ORDER BY line;
  TRUNCATE refund_batch_staging`;

interface TradeState {
  paid: number | null;
  currency: string | null;
  recorded: number;
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
   * for nothing, as a refused single refund. REFUND_BATCH_CHUNK_LINES at a time: COPY into a
   * staging table, the trades' advisory locks (those record() takes), one read of what is
   * stored, the decisions here, one INSERT … SELECT of the accepted lines. A deadlock with a
   * concurrent batch runs the whole batch again (a fresh iterable: a factory).
   */
  run(lines: () => Iterable<RefundBatchLine>, contentType: string): Promise<RefundBatchResult> {
    return retryOnDeadlock(
      () => this.recordBatchOnce(lines(), contentType),
      this.logger,
      'refund batch',
    );
  }

  private async recordBatchOnce(
    lines: Iterable<RefundBatchLine>,
    contentType: string,
  ): Promise<RefundBatchResult> {
    const result: RefundBatchResult = { created: 0, duplicates: 0, rejected: [], matched: [] };
    // Key → fingerprint of the refund stored (or accepted earlier in this body) under it.
    const byKey = new Map<string, string>();
    const [client, release] = await obtainClient(this.db);
    let broken: Error | undefined;
    const onClientError = (e: Error) => {
      broken = e;
    };
    client.on('error', onClientError);
    try {
      await client.query(`BEGIN; ${CREATE_REFUND_STAGING}`);
      let chunk: (RefundBatchLine & { item: NormalizedRefund; raw: string })[] = [];
      const flush = async () => {
        if (chunk.length) await this.storeRefundChunk(client, chunk, contentType, byKey, result);
        chunk = [];
      };
      for (const l of lines) {
        if (l.item) {
          chunk.push({ ...l, item: l.item, raw: l.raw ?? '' });
          if (chunk.length === REFUND_BATCH_CHUNK_LINES) await flush();
        } else {
          result.rejected.push({
            line: l.line,
            code: l.code ?? 'VALIDATION_FAILED',
            detail: l.detail,
          });
        }
      }
      await flush();
      await client.query('COMMIT');
    } catch (e) {
      if (!broken) {
        await client.query('ROLLBACK').catch((re: Error) => {
          broken = re;
        });
      }
      throw e;
    } finally {
      client.removeListener('error', onClientError);
      release(broken);
    }
    result.rejected.sort((a, b) => a.line - b.line);
    return result;
  }

  /** One chunk: stage, lock and read, decide each line in body order, insert, find tickets. */
  private async storeRefundChunk(
    client: PoolClient,
    chunk: (RefundBatchLine & { item: NormalizedRefund; raw: string })[],
    contentType: string,
    byKey: Map<string, string>,
    result: RefundBatchResult,
  ): Promise<void> {
    const fingerprints = chunk.map((l) => refundFingerprint(l.item));
    let rows = '';
    chunk.forEach(({ line, item: r, raw }, i) => {
      const [k1, k2] = tradeLockKey(r.provider, r.tradeNo);
      rows +=
        `${line}\t${copyText(r.provider)}\t${copyText(r.tradeNo)}\t${copyText(r.refundNo)}` +
        `\t${r.amountMinor ?? 0}\t${copyText(r.currency)}\t${r.refundedAt.toISOString()}` +
        `\t${fingerprints[i]}\t${copyText(raw)}\t${k1}\t${k2}\n`;
    });
    await copyIn(client, COPY_REFUND_STAGING, rows);
    const [, storedRes, tradesRes] = (await client.query(LOCK_AND_READ)) as unknown as {
      rows: Record<string, string>[];
    }[];
    const storedByLine = new Map(storedRes.rows.map((r) => [Number(r.line), r.stored]));
    const trades = new Map<string, TradeState>(
      tradesRes.rows.map((r) => [
        `${r.provider}\u0000${r.trade_no}`,
        {
          paid: r.paid === null ? null : Number(r.paid),
          currency: r.currency,
          recorded: Number(r.recorded),
        },
      ]),
    );
    const accepted: number[] = [];
    chunk.forEach(({ line, item: r }, i) => {
      const key = `${r.provider}\u0000${r.refundNo}`;
      const stored = byKey.get(key) ?? storedByLine.get(line);
      if (stored !== undefined) {
        if (stored === fingerprints[i]) result.duplicates++;
        else result.rejected.push({ line, code: 'RECEIPT_CONFLICT' });
        return;
      }
      const trade = trades.get(`${r.provider}\u0000${r.tradeNo}`);
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
    });
    if (accepted.length) {
      const notInserted = (
        await client.query<{ line: number; stored: string | null }>(INSERT_REFUNDS_FROM_STAGING, [
          accepted,
          contentType,
        ])
      ).rows;
      result.created += accepted.length - notInserted.length;
      // The same refundNo stored meanwhile under another trade (another trade's lock).
      const fingerprintOf = new Map(chunk.map((l, i) => [l.line, fingerprints[i]]));
      for (const r of notInserted) {
        if (r.stored !== null && r.stored === fingerprintOf.get(r.line)) result.duplicates++;
        else result.rejected.push({ line: r.line, code: 'RECEIPT_CONFLICT' });
      }
    }
    const [matchedRes] = (await client.query(MATCHED_AND_TRUNCATE)) as unknown as {
      rows: { refund: RefundRow; receipt_id: string }[];
    }[];
    for (const { refund, receipt_id } of matchedRes.rows) {
      result.matched.push(toView({ ...reviveRefund(refund), receipt_id }));
    }
  }
}
