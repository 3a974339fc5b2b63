import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { Actor, DEFAULT_LIMIT, DomainError, Page, pageOf } from '@app/shared';
import {
  AccountOwner,
  DirectoryService,
  accountKey,
  decodeTimeIdCursor,
  regionNameOrNull,
} from '@app/directory';
import { obtainClient, retryOnDeadlock } from './batch-tx';
import { copyIn, copyText } from './copy-in';
import { NormalizedReceipt } from './verifiers';

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
  complaintId: string | null;
  /** Refunds recorded for this payment, never more than the amount paid. */
  refundedMinor: number;
  receivedAt: string;
}

/** A verified notification with the evidence it came in. */
export interface IncomingReceipt {
  receipt: NormalizedReceipt;
  raw: string;
  contentType: string;
}

export interface IngestResult {
  receipt: ReceiptView;
  created: boolean;
}

export interface BatchLineResult {
  line: number;
  receipt?: NormalizedReceipt;
  raw?: string;
  code?: string;
  detail?: string;
}

export interface BatchResult {
  created: number;
  duplicates: number;
  rejected: { line: number; code: string; detail?: string }[];
}

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
 * Staging (one chunk) → receipts, in key order within the chunk (index locality; concurrent
 * batches take the keys of a chunk in one order), refunds stored before their receipt matched
 * to it, and the staged lines that were not inserted
 * because their key is already stored.
 */
const INSERT_FROM_STAGING = `
  WITH ins AS (
    INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id,
                          region_code, amount_minor, currency, paid_at, subject, items,
                          fingerprint, raw_notification, raw_content_type)
    SELECT provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
           amount_minor, currency, paid_at, subject, items, fingerprint, raw, $1
      FROM receipt_batch_staging
     ORDER BY provider, trade_no
    ON CONFLICT (provider, trade_no) DO NOTHING
    RETURNING id, provider, trade_no),
  -- Refunds that arrived before their receipt are matched now (as by a single receipt).
  matched AS (
    UPDATE refunds f SET receipt_id = ins.id FROM ins
     WHERE f.provider = ins.provider AND f.trade_no = ins.trade_no AND f.receipt_id IS NULL)
  SELECT s.line FROM receipt_batch_staging s
   WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.provider = s.provider AND ins.trade_no = s.trade_no)`;

/**
 * For the staged lines that were not inserted: the fingerprint stored under their key, read by
 * a statement of its own, which sees rows committed since the INSERT began (null: vanished).
 */
const STORED_FINGERPRINTS = `
  SELECT s.line, s.provider, s.trade_no, s.fingerprint AS mine, r.fingerprint::text AS stored
    FROM receipt_batch_staging s
    LEFT JOIN receipts r ON r.provider = s.provider AND r.trade_no = s.trade_no
   WHERE s.line = ANY($1::int[])`;

interface ReceiptRow {
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
  complaint_id: string | null;
  refunded_minor: string;
  received_at: Date;
}

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

const SELECT_RECEIPT = `
  SELECT r.id, r.provider, r.trade_no, r.payer_id, r.account_id, r.merchant_id, r.store_id, r.region_code,
         r.amount_minor, r.currency, r.paid_at, r.subject, r.items, r.received_at,
         (SELECT c.id FROM complaints c WHERE c.receipt_id = r.id) AS complaint_id,
         LEAST(r.amount_minor, (SELECT coalesce(sum(f.amount_minor), 0) FROM refunds f
                                 WHERE f.provider = r.provider AND f.trade_no = r.trade_no))
           AS refunded_minor
    FROM receipts r`;

function toView(r: ReceiptRow): ReceiptView {
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
    complaintId: r.complaint_id,
    refundedMinor: Number(r.refunded_minor),
    receivedAt: r.received_at.toISOString(),
  };
}

@Injectable()
export class ReceiptsService {
  private readonly logger = new Logger(ReceiptsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly directory: DirectoryService,
  ) {}

  /**
   * Stores one verified notification. Idempotent on (provider, tradeNo) under concurrency: the
   * unique index decides the winner; a loser compares fingerprints to tell a re-delivery (same
   * facts, acknowledged again) from a conflicting payload (409).
   */
  async ingest(incoming: IncomingReceipt): Promise<IngestResult> {
    const { receipt } = incoming;
    const owners = await this.directory.resolveAccounts([receipt]);
    const fingerprint = receiptFingerprint(receipt);
    const inserted = await this.insertRows([{ ...incoming, fingerprint }], owners);
    if (inserted.size === 1) {
      const id = [...inserted.values()][0];
      // Refunds that arrived before their receipt are matched now.
      await this.db.query(
        `UPDATE refunds SET receipt_id = $1 WHERE provider = $2 AND trade_no = $3 AND receipt_id IS NULL`,
        [id, receipt.provider, receipt.tradeNo],
      );
      return { receipt: await this.byId(id), created: true };
    }
    const existing: { id: string; fingerprint: string }[] = await this.db.query(
      'SELECT id, fingerprint FROM receipts WHERE provider = $1 AND trade_no = $2',
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

  /**
   * Bulk import, in one transaction. The lines are parsed, validated, fingerprinted and
   * resolved BATCH_CHUNK_LINES at a time; each chunk goes by COPY into a temporary staging table
   * and from there into receipts with one `INSERT … SELECT … ON CONFLICT DO NOTHING`, while the
   * next chunk is being prepared (PostgreSQL and this process work at the same time; one chunk
   * in flight, one in preparation: memory does not grow with the body). Each bad line is
   * reported by number. Within one body the first line of a key wins; a later line with the
   * same key is a duplicate (same facts) or a RECEIPT_CONFLICT, as is a line whose key is
   * already stored with other facts. Any failure rolls the whole request back.
   */
  async ingestBatch(
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
    const [client, release] = await obtainClient(this.db);
    let broken: Error | undefined;
    const onClientError = (e: Error) => {
      broken = e;
    };
    client.on('error', onClientError);
    let inFlight: Promise<void> | null = null;
    try {
      await client.query(`BEGIN; ${CREATE_STAGING}`);
      let chunk: (BatchLineResult & { receipt: NormalizedReceipt })[] = [];
      const flush = async () => {
        const rows = await this.stagingRows(chunk, owners, firstByKey, later);
        chunk = [];
        if (!rows) return;
        if (inFlight) await inFlight;
        inFlight = this.storeChunk(client, rows, contentType, result, firstByKey);
        // Observed when awaited (next chunk, end, or the rollback); never "unhandled" meanwhile.
        inFlight.catch(() => undefined);
      };
      for (const l of lines) {
        if (l.receipt) {
          chunk.push(l as BatchLineResult & { receipt: NormalizedReceipt });
          if (chunk.length === BATCH_CHUNK_LINES) await flush();
        } else {
          result.rejected.push({
            line: l.line,
            code: l.code ?? 'VALIDATION_FAILED',
            detail: l.detail,
          });
        }
      }
      await flush();
      if (inFlight) await inFlight;
      inFlight = null;

      await client.query('COMMIT');
      for (const l of later) {
        if (firstByKey.get(l.key) === l.fingerprint) result.duplicates++;
        else result.rejected.push({ line: l.line, code: 'RECEIPT_CONFLICT' });
      }
    } catch (e) {
      // The chunk in flight settles first (the client runs one statement at a time).
      await (inFlight as Promise<void> | null)?.catch(() => undefined);
      if (!broken) {
        await client.query('ROLLBACK').catch((re: Error) => {
          broken = re;
        });
      }
      throw e;
    } finally {
      client.removeListener('error', onClientError);
      // A connection in an unknown state is closed, not handed back to the pool.
      release(broken);
    }
    result.rejected.sort((a, b) => a.line - b.line);
    return result;
  }

  /**
   * One chunk on the client, one statement after another: COPY into staging, INSERT from
   * staging, (only when some key was already stored) its stored fingerprints, empty staging.
   * The caller prepares the next chunk meanwhile. A line whose key was already stored is a
   * duplicate (same fingerprint) or a conflict; the stored fingerprint then becomes the one
   * that later lines of the key are compared with.
   */
  private async storeChunk(
    client: PoolClient,
    rows: string,
    contentType: string,
    result: BatchResult,
    firstByKey: Map<string, string>,
  ): Promise<void> {
    const copied = await copyIn(client, COPY_STAGING, rows);
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
   * has not seen yet in one query.
   */
  private async stagingRows(
    chunk: (BatchLineResult & { receipt: NormalizedReceipt })[],
    owners: Map<string, AccountOwner | null>,
    firstByKey: Map<string, string>,
    later: { line: number; key: string; fingerprint: string }[],
  ): Promise<string> {
    const unknown = new Map<string, { provider: string; accountId: string }>();
    for (const { receipt: r } of chunk) {
      const k = accountKey(r.provider, r.accountId);
      if (!owners.has(k) && !unknown.has(k)) unknown.set(k, r);
    }
    if (unknown.size) {
      const found = await this.directory.resolveAccounts([...unknown.values()]);
      for (const k of unknown.keys()) owners.set(k, found.get(k) ?? null);
    }
    let out = '';
    for (const { line, receipt: r, raw } of chunk) {
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
        `\t${fingerprint}\t${copyText(raw ?? '')}\n`;
    }
    return out;
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
    const rows: ReceiptRow[] = await this.db.query(`${SELECT_RECEIPT} WHERE r.id = $1`, [id]);
    return rows.length ? toView(rows[0]) : null;
  }

  private async byId(id: string): Promise<ReceiptView> {
    const r = await this.findById(id);
    if (!r) throw new Error(`receipt ${id} missing`);
    return r;
  }

  /** One multi-row INSERT … ON CONFLICT DO NOTHING; returns the keys it inserted → id. */
  private async insertRows(
    rows: (IncomingReceipt & { fingerprint: string })[],
    owners: Map<string, AccountOwner>,
  ): Promise<Map<string, string>> {
    const cols = {
      provider: [] as string[],
      tradeNo: [] as string[],
      payerId: [] as string[],
      accountId: [] as string[],
      merchantId: [] as (string | null)[],
      storeId: [] as (string | null)[],
      regionCode: [] as (string | null)[],
      amountMinor: [] as string[],
      currency: [] as string[],
      paidAt: [] as string[],
      subject: [] as string[],
      items: [] as (string | null)[],
      fingerprint: [] as string[],
      raw: [] as string[],
      contentType: [] as string[],
    };
    for (const { receipt: r, raw, contentType, fingerprint } of rows) {
      const owner = owners.get(accountKey(r.provider, r.accountId));
      cols.provider.push(r.provider);
      cols.tradeNo.push(r.tradeNo);
      cols.payerId.push(r.payerId);
      cols.accountId.push(r.accountId);
      cols.merchantId.push(owner?.merchantId ?? null);
      cols.storeId.push(owner?.storeId ?? null);
      cols.regionCode.push(owner?.regionCode ?? null);
      cols.amountMinor.push(String(r.amountMinor));
      cols.currency.push(r.currency);
      cols.paidAt.push(r.paidAt.toISOString());
      cols.subject.push(r.subject);
      cols.items.push(r.items === undefined ? null : JSON.stringify(r.items));
      cols.fingerprint.push(fingerprint);
      cols.raw.push(raw);
      cols.contentType.push(contentType);
    }
    const out: { id: string; provider: string; trade_no: string }[] = await this.db.query(
      `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                             amount_minor, currency, paid_at, subject, items, fingerprint, raw_notification,
                             raw_content_type)
       SELECT provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
              amount_minor, currency, paid_at, subject, items::jsonb, fingerprint, raw, ct
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::text[],
                     $8::bigint[], $9::text[], $10::timestamptz[], $11::text[], $12::text[], $13::text[],
                     $14::text[], $15::text[])
           AS t(provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                amount_minor, currency, paid_at, subject, items, fingerprint, raw, ct)
       ON CONFLICT (provider, trade_no) DO NOTHING
       RETURNING id, provider, trade_no`,
      Object.values(cols),
    );
    return new Map(out.map((r) => [`${r.provider}\u0000${r.trade_no}`, r.id]));
  }
}
