import { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { AccountOwner, DirectoryService, accountKey } from '@app/directory';
import { chunkedCopyTransaction, goodLines, keysClaimedHere, retryOnDeadlock } from './batch-tx';
import type { BatchCounts, GoodLine, SignedBatchLine } from './batch-tx';
import { copyText } from './copy-in';
import { receiptFingerprint } from './receipt-fingerprint';
import { NormalizedReceipt } from './verifiers';

/** One line of a receipt batch (signedBatchLines): its receipt and raw text, or why not. */
export type BatchLineResult = SignedBatchLine<NormalizedReceipt>;

export type BatchResult = BatchCounts;

/**
 * Lines of a batch handled at a time (parsed, validated, resolved, sent to COPY): a few MB of
 * COPY data, so the request's memory does not grow with the body, and PostgreSQL loads one
 * chunk while the next is prepared.
 */
export const BATCH_CHUNK_LINES = 2000;

/** Per request and transaction; dropped at COMMIT (and with the ROLLBACK of a failure). */
const CREATE_STAGING = `CREATE TEMP TABLE receipt_batch_staging (
    line int NOT NULL, provider text NOT NULL, trade_no text NOT NULL, payer_id text NOT NULL,
    account_id text NOT NULL, merchant_id uuid, store_id uuid, region_code text,
    amount_minor bigint NOT NULL, currency text NOT NULL, paid_at timestamptz NOT NULL,
    subject text NOT NULL, items jsonb, fingerprint text NOT NULL, raw text NOT NULL
  ) ON COMMIT DROP`;

const COPY_STAGING = `COPY receipt_batch_staging (line, provider, trade_no, payer_id, account_id,
    merchant_id, store_id, region_code, amount_minor, currency, paid_at, subject, items,
    fingerprint, raw) FROM STDIN`;

/**
 * Staging (one chunk) → receipts, and the staged lines that were not inserted because their key
 * is already stored. The key is claimed first in receipt_keys (the global unique key of the
 * partitioned table, docs/SCALE.md "Partitions") in key order within the chunk (index locality;
 * concurrent batches take the keys of a chunk in one order); the receipts of the keys this
 * statement claimed follow, under the ids it claimed them with (so the table's key trigger skips
 * them: keysClaimedHere); refunds stored before their receipt are matched to it.
 */
const INSERT_FROM_STAGING = `
  WITH k AS (
    INSERT INTO receipt_keys (provider, trade_no, receipt_id, paid_at)
    SELECT provider, trade_no, gen_random_uuid(), paid_at
      FROM receipt_batch_staging
     ORDER BY provider, trade_no
    ON CONFLICT (provider, trade_no) DO NOTHING
    RETURNING provider, trade_no, receipt_id),
  ins AS (
    INSERT INTO receipts (id, provider, trade_no, payer_id, account_id, merchant_id, store_id,
                          region_code, amount_minor, currency, paid_at, subject, items,
                          fingerprint, raw_notification, raw_content_type)
    SELECT k.receipt_id, s.provider, s.trade_no, s.payer_id, s.account_id, s.merchant_id,
           s.store_id, s.region_code, s.amount_minor, s.currency, s.paid_at, s.subject, s.items,
           s.fingerprint, s.raw, $1
      FROM k JOIN receipt_batch_staging s ON s.provider = k.provider AND s.trade_no = k.trade_no
     WHERE ${keysClaimedHere('receipts')}
    RETURNING id, provider, trade_no),
  -- Refunds that arrived before their receipt are matched now (as by a single receipt).
  matched AS (
    UPDATE refunds f SET receipt_id = ins.id FROM ins
     WHERE f.provider = ins.provider AND f.trade_no = ins.trade_no AND f.receipt_id IS NULL)
  SELECT s.line FROM receipt_batch_staging s
   WHERE NOT EXISTS (SELECT 1 FROM k WHERE k.provider = s.provider AND k.trade_no = s.trade_no)`;

/**
 * For the staged lines that were not inserted: the fingerprint stored under their key, read by
 * a statement of its own, which sees rows committed since the INSERT began (null: vanished).
 */
const STORED_FINGERPRINTS = `
  SELECT s.line, s.provider, s.trade_no, s.fingerprint AS mine, r.fingerprint::text AS stored
    FROM receipt_batch_staging s
    LEFT JOIN receipts r ON r.provider = s.provider AND r.trade_no = s.trade_no
   WHERE s.line = ANY($1::int[])`;

/**
 * The bulk import of POST /v1/receipts/batch: COPY through a staging table, chunk by chunk, in
 * one transaction (ReceiptsService.ingestBatch).
 */
export class ReceiptBatchImport {
  private readonly logger = new Logger(ReceiptBatchImport.name);

  constructor(
    private readonly db: DataSource,
    private readonly directory: DirectoryService,
  ) {}

  /**
   * Bulk import, in one transaction. The lines are parsed, validated, fingerprinted and
   * resolved BATCH_CHUNK_LINES at a time; each chunk goes by COPY into a temporary staging table
   * and from there into receipts with one statement (INSERT_FROM_STAGING: the keys claimed with
   * `ON CONFLICT DO NOTHING`, then the receipts of the keys it claimed), while the
   * next chunk is being prepared (PostgreSQL and this process work at the same time; one chunk
   * in flight, one in preparation: memory does not grow with the body). Each bad line is
   * reported by number. Within one body the first line of a key wins; a later line with the
   * same key is a duplicate (same facts) or a RECEIPT_CONFLICT, as is a line whose key is
   * already stored with other facts. Any failure rolls the whole request back.
   */
  async run(
    lines: Iterable<BatchLineResult> | (() => Iterable<BatchLineResult>),
    contentType: string,
  ): Promise<BatchResult> {
    // Two batches that share keys across chunks lock them in different orders and PostgreSQL
    // aborts one with 40P01; that one is run again from its first line (it needs a fresh
    // iterable: a factory). Its second run finds the other's rows and counts them as duplicates.
    if (typeof lines !== 'function') return this.ingestBatchOnce(lines, contentType);
    return retryOnDeadlock(
      () => this.ingestBatchOnce(lines(), contentType),
      this.logger,
      'batch import',
    );
  }

  private async ingestBatchOnce(
    lines: Iterable<BatchLineResult>,
    contentType: string,
  ): Promise<BatchResult> {
    const result: BatchResult = { created: 0, duplicates: 0, rejected: [] };
    // Key → fingerprint of its first line in this body, or of the receipt already stored under
    // it; later lines of a key are compared with it at the end.
    const firstByKey = new Map<string, string>();
    const later: { line: number; key: string; fingerprint: string }[] = [];
    const owners = new Map<string, AccountOwner | null>();
    await chunkedCopyTransaction(this.db, {
      begin: CREATE_STAGING,
      copy: COPY_STAGING,
      chunkLines: BATCH_CHUNK_LINES,
      lines: goodLines(lines, result),
      prepare: async (chunk, client) => {
        const rows = await this.stagingRows(chunk, client, owners, firstByKey, later);
        return rows ? { rows, context: null } : null;
      },
      store: (client, _context, copied) =>
        this.storeChunk(client, copied, contentType, result, firstByKey),
    });
    for (const l of later) {
      if (firstByKey.get(l.key) === l.fingerprint) result.duplicates++;
      else result.rejected.push({ line: l.line, code: 'RECEIPT_CONFLICT' });
    }
    result.rejected.sort((a, b) => a.line - b.line);
    return result;
  }

  /**
   * One chunk on the client after its COPY into staging, one statement after another: INSERT
   * from staging, (only when some key was already stored) its stored fingerprints, empty
   * staging. The caller prepares the next chunk meanwhile. A line whose key was already stored
   * is a duplicate (same fingerprint) or a conflict; the stored fingerprint then becomes the one
   * that later lines of the key are compared with.
   */
  private async storeChunk(
    client: PoolClient,
    copied: number,
    contentType: string,
    result: BatchResult,
    firstByKey: Map<string, string>,
  ): Promise<void> {
    const notInserted = (await client.query<{ line: number }>(INSERT_FROM_STAGING, [contentType]))
      .rows;
    result.created += copied - notInserted.length;
    if (notInserted.length) {
      const stored = await client.query<{
        line: number;
        provider: string;
        trade_no: string;
        mine: string;
        stored: string | null;
      }>(STORED_FINGERPRINTS, [notInserted.map((r) => r.line)]);
      for (const r of stored.rows) {
        if (r.stored !== null) firstByKey.set(`${r.provider}\u0000${r.trade_no}`, r.stored);
        if (r.stored === r.mine) result.duplicates++;
        else result.rejected.push({ line: r.line, code: 'RECEIPT_CONFLICT' });
      }
    }
    await client.query('TRUNCATE receipt_batch_staging');
  }

  /**
   * COPY text rows for one chunk of good lines (the first line of each key in this body);
   * later lines of a key already seen are set aside in `later`. Resolves the payee accounts it
   * has not seen yet in one query, on the batch's client.
   */
  private async stagingRows(
    chunk: GoodLine<NormalizedReceipt>[],
    client: PoolClient,
    owners: Map<string, AccountOwner | null>,
    firstByKey: Map<string, string>,
    later: { line: number; key: string; fingerprint: string }[],
  ): Promise<string> {
    const unknown = new Map<string, { provider: string; accountId: string }>();
    for (const { item: r } of chunk) {
      const k = accountKey(r.provider, r.accountId);
      if (!owners.has(k) && !unknown.has(k)) unknown.set(k, r);
    }
    if (unknown.size) {
      // On the batch's own connection (see ChunkedCopy.prepare).
      const found = await this.directory.resolveAccounts([...unknown.values()], client);
      for (const k of unknown.keys()) owners.set(k, found.get(k) ?? null);
    }
    let out = '';
    for (const { line, item: r, raw } of chunk) {
      const key = `${r.provider}\u0000${r.tradeNo}`;
      const fingerprint = receiptFingerprint(r);
      if (firstByKey.has(key)) {
        later.push({ line, key, fingerprint });
        continue;
      }
      firstByKey.set(key, fingerprint);
      const owner = owners.get(accountKey(r.provider, r.accountId)) ?? null;
      out +=
        `${line}\t${copyText(r.provider)}\t${copyText(r.tradeNo)}\t${copyText(r.payerId)}` +
        `\t${copyText(r.accountId)}\t${copyText(owner?.merchantId ?? null)}` +
        `\t${copyText(owner?.storeId ?? null)}\t${copyText(owner?.regionCode ?? null)}` +
        `\t${r.amountMinor}\t${copyText(r.currency)}\t${r.paidAt.toISOString()}` +
        `\t${copyText(r.subject)}\t${copyText(r.items === undefined ? null : JSON.stringify(r.items))}` +
        `\t${fingerprint}\t${copyText(raw)}\n`;
    }
    return out;
  }
}
