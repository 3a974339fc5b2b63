import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedOn } from '@app/shared/prepared';
import { Actor, DEFAULT_LIMIT, DomainError, Page, pageOf, rowsOf } from '@app/shared';
import type { Queryable } from '@app/shared';
import { DirectoryService, accountKey, decodeTimeIdCursor } from '@app/directory';
import type { SqlConnection } from '@app/directory';
import { BatchLineResult, BatchResult, ReceiptBatchImport } from './receipt-batch';
import { receiptFingerprint } from './receipt-fingerprint';
import { receiptMonthById, receiptMonthByKey } from './partition-lookups';
import { ReceiptRow, ReceiptView, SELECT_RECEIPT, toView } from './receipt-view';
import type { NormalizedReceipt, Received } from './verifiers';

export type { ReceiptRow, ReceiptView } from './receipt-view';
export { receiptFingerprint } from './receipt-fingerprint';
export { BATCH_CHUNK_LINES } from './receipt-batch';
export { BATCH_DEADLOCK_TRIES } from './batch-tx';
export type { BatchLineResult, BatchResult } from './receipt-batch';

/** A verified notification with the evidence it came in. */
export interface IncomingReceipt extends Received {
  receipt: NormalizedReceipt;
}

export interface IngestResult {
  receipt: ReceiptView;
  created: boolean;
}

/**
 * Receipts from arrays (one element per receipt), idempotent on (provider, trade_no): each key
 * is claimed in receipt_keys with `ON CONFLICT DO NOTHING` (the arbitration the unique index of
 * the unpartitioned table made: a concurrent insert of the same key waits for the other
 * transaction and then does nothing), and only the receipts whose key this statement claimed are
 * stored, under the claimed id. Returns those.
 */
export const INSERT_ROWS = `
  WITH t AS (
    SELECT gen_random_uuid() AS id, *
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::text[],
                  $8::bigint[], $9::text[], $10::timestamptz[], $11::text[], $12::text[], $13::text[],
                  $14::text[], $15::text[])
        AS u(provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
             amount_minor, currency, paid_at, subject, items, fingerprint, raw, ct)),
  k AS (
    INSERT INTO receipt_keys (provider, trade_no, receipt_id, paid_at)
    SELECT provider, trade_no, id, paid_at FROM t ORDER BY provider, trade_no
    ON CONFLICT (provider, trade_no) DO NOTHING
    RETURNING receipt_id)
  INSERT INTO receipts (id, provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                        amount_minor, currency, paid_at, subject, items, fingerprint, raw_notification,
                        raw_content_type)
  SELECT t.id, provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
         amount_minor, currency, paid_at, subject, items::jsonb, fingerprint, raw, ct
    FROM t JOIN k ON k.receipt_id = t.id
  RETURNING id, provider, trade_no`;

/**
 * One new notification in one statement: the key claimed as in INSERT_ROWS, the receipt stored
 * under it, refunds that arrived before it linked, and the receipt returned as SELECT_RECEIPT
 * shows it (refunds summed in the statement's snapshot, which holds every refund of the trade
 * the UPDATE links). No row when the key was already taken.
 */
export const INGEST_ONE = `
  WITH k AS (
    INSERT INTO receipt_keys (provider, trade_no, receipt_id, paid_at)
    VALUES ($1, $2, gen_random_uuid(), $10::timestamptz)
    ON CONFLICT (provider, trade_no) DO NOTHING
    RETURNING receipt_id),
  r AS (
    INSERT INTO receipts (id, provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                          amount_minor, currency, paid_at, subject, items, fingerprint, raw_notification,
                          raw_content_type)
    SELECT k.receipt_id, $1, $2, $3, $4, $5::uuid, $6::uuid, $7, $8::bigint, $9, $10::timestamptz, $11,
           $12::jsonb, $13, $14, $15
      FROM k
    RETURNING id, provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
              amount_minor, currency, paid_at, subject, items, received_at),
  linked AS (
    UPDATE refunds f SET receipt_id = r.id FROM r
     WHERE f.provider = r.provider AND f.trade_no = r.trade_no AND f.receipt_id IS NULL)
  SELECT r.*,
         LEAST(r.amount_minor, (SELECT coalesce(sum(f.amount_minor), 0) FROM refunds f
                                 WHERE f.provider = $1 AND f.trade_no = $2)) AS refunded_minor
    FROM r`;

@Injectable()
export class ReceiptsService {
  private readonly batch: ReceiptBatchImport;
  /** INGEST_ONE and the directory's store lookup as named statements (planned once). */
  private readonly primary: Queryable;
  /** The same, shaped as the directory's SqlConnection (rows under `rows`). */
  private readonly named: SqlConnection;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly directory: DirectoryService,
  ) {
    this.batch = new ReceiptBatchImport(db, directory);
    this.primary = preparedOn(db);
    const primary = this.primary;
    this.named = {
      async query<R>(sql: string, params: unknown[]) {
        return { rows: await rowsOf<R>(primary, sql, params) };
      },
    };
  }

  /**
   * Stores one verified notification. Idempotent on (provider, tradeNo) under concurrency: the
   * key's row in receipt_keys decides the winner (INGEST_ONE); a loser compares fingerprints to
   * tell a re-delivery (same facts, acknowledged again) from a conflicting payload (409).
   */
  async ingest(incoming: IncomingReceipt): Promise<IngestResult> {
    const { receipt } = incoming;
    const owners = await this.directory.resolveAccounts([receipt], this.named);
    const fingerprint = receiptFingerprint(receipt);
    const owner = owners.get(accountKey(receipt.provider, receipt.accountId));
    // Two statements for a new receipt: its store (the directory's), then INGEST_ONE, both
    // named: PostgreSQL parses and plans them once per connection, and the call skips TypeORM's
    // query runner.
    const stored = await rowsOf<ReceiptRow>(this.primary, INGEST_ONE, [
      receipt.provider,
      receipt.tradeNo,
      receipt.payerId,
      receipt.accountId,
      owner?.merchantId ?? null,
      owner?.storeId ?? null,
      owner?.regionCode ?? null,
      String(receipt.amountMinor),
      receipt.currency,
      receipt.paidAt.toISOString(),
      receipt.subject,
      receipt.items === undefined ? null : JSON.stringify(receipt.items),
      fingerprint,
      incoming.raw,
      incoming.contentType,
    ]);
    if (stored.length) return { receipt: toView(stored[0]), created: true };
    const existing: { id: string; fingerprint: string }[] = await this.db.query(
      `SELECT r.id, r.fingerprint FROM receipts r
        WHERE r.provider = $1 AND r.trade_no = $2 AND ${receiptMonthByKey('r', '$1', '$2')}`,
      [receipt.provider, receipt.tradeNo],
    );
    if (!existing.length) throw new Error('receipt vanished after a conflicting insert');
    if (existing[0].fingerprint !== fingerprint) {
      throw new DomainError(
        'RECEIPT_CONFLICT',
        `a different receipt is already stored for ${receipt.provider} trade ${receipt.tradeNo}`,
        { receiptId: existing[0].id },
      );
    }
    return { receipt: await this.byId(existing[0].id), created: false };
  }

  /** Bulk import (receipt-batch.ts): see ReceiptBatchImport.run. */
  ingestBatch(
    lines: Iterable<BatchLineResult> | (() => Iterable<BatchLineResult>),
    contentType: string,
  ): Promise<BatchResult> {
    return this.batch.run(lines, contentType);
  }

  async listForPayer(
    payerId: string,
    q: { limit?: number; cursor?: string },
  ): Promise<Page<ReceiptView>> {
    const limit = q.limit ?? DEFAULT_LIMIT;
    const cursor = decodeTimeIdCursor(q.cursor);
    const params: unknown[] = [payerId, limit + 1];
    let where = 'r.payer_id = $1';
    if (cursor) {
      params.push(cursor[0], cursor[1]);
      where += ' AND (r.paid_at, r.id) < ($3::timestamptz, $4::uuid)';
    }
    const rows: ReceiptRow[] = await this.db.query(
      `${SELECT_RECEIPT} WHERE ${where} ORDER BY r.paid_at DESC, r.id DESC LIMIT $2`,
      params,
    );
    return pageOf(rows.map(toView), limit, (r) => [r.paidAt, r.id]);
  }

  /** A receipt as its payer (or an admin) sees it; anyone else is told it does not exist. */
  async getForActor(id: string, actor: Actor): Promise<ReceiptView> {
    const receipt = await this.findById(id);
    if (!receipt || (actor.role !== 'admin' && receipt.payerId !== actor.sub)) {
      throw new DomainError('NOT_FOUND', `receipt ${id} not found`);
    }
    return receipt;
  }

  async findById(id: string): Promise<ReceiptView | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    const rows: ReceiptRow[] = await this.db.query(
      `${SELECT_RECEIPT} WHERE r.id = $1 AND ${receiptMonthById('r', '$1')}`,
      [id],
    );
    return rows.length ? toView(rows[0]) : null;
  }

  private async byId(id: string): Promise<ReceiptView> {
    const r = await this.findById(id);
    if (!r) throw new Error(`receipt ${id} missing`);
    return r;
  }
}
