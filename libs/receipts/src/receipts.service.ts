import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Actor, DEFAULT_LIMIT, DomainError, Page, pageOf } from '@app/shared';
import { AccountOwner, DirectoryService, accountKey, decodeTimeIdCursor } from '@app/directory';
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
  amountMinor: number;
  currency: string;
  paidAt: string;
  subject: string;
  items: unknown;
  complaintId: string | null;
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

/** Rows per multi-row INSERT: big enough to amortise round trips, small enough for bind limits. */
const CHUNK = 5000;

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
         (SELECT c.id FROM complaints c WHERE c.receipt_id = r.id) AS complaint_id
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
    amountMinor: Number(r.amount_minor),
    currency: r.currency,
    paidAt: r.paid_at.toISOString(),
    subject: r.subject,
    items: r.items ?? null,
    complaintId: r.complaint_id,
    receivedAt: r.received_at.toISOString(),
  };
}

@Injectable()
export class ReceiptsService {
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
      return { receipt: await this.byId([...inserted.values()][0]), created: true };
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

  /** Bulk import: multi-row INSERTs of CHUNK lines; each bad line is reported by number. */
  async ingestBatch(lines: BatchLineResult[], contentType: string): Promise<BatchResult> {
    const result: BatchResult = { created: 0, duplicates: 0, rejected: [] };
    const good: (BatchLineResult & { receipt: NormalizedReceipt })[] = [];
    for (const l of lines) {
      if (l.receipt) good.push(l as BatchLineResult & { receipt: NormalizedReceipt });
      else
        result.rejected.push({
          line: l.line,
          code: l.code ?? 'VALIDATION_FAILED',
          detail: l.detail,
        });
    }
    for (let i = 0; i < good.length; i += CHUNK) {
      const chunk = good.slice(i, i + CHUNK);
      // Within one body the first line of a key wins; later lines are duplicates or conflicts.
      const firstByKey = new Map<string, { fingerprint: string; line: BatchLineResult }>();
      const toInsert: (IncomingReceipt & { fingerprint: string; line: number })[] = [];
      const later: { line: number; key: string; fingerprint: string }[] = [];
      for (const l of chunk) {
        const key = `${l.receipt.provider}\u0000${l.receipt.tradeNo}`;
        const fingerprint = receiptFingerprint(l.receipt);
        if (firstByKey.has(key)) {
          later.push({ line: l.line, key, fingerprint });
          continue;
        }
        firstByKey.set(key, { fingerprint, line: l });
        toInsert.push({
          receipt: l.receipt,
          raw: l.raw ?? '',
          contentType,
          fingerprint,
          line: l.line,
        });
      }
      const owners = await this.directory.resolveAccounts(toInsert.map((t) => t.receipt));
      const inserted = await this.insertRows(toInsert, owners);
      result.created += inserted.size;
      const notInserted = toInsert.filter(
        (t) => !inserted.has(`${t.receipt.provider}\u0000${t.receipt.tradeNo}`),
      );
      const stored = new Map<string, string>();
      if (notInserted.length) {
        const rows: { provider: string; trade_no: string; fingerprint: string }[] =
          await this.db.query(
            `SELECT r.provider, r.trade_no, r.fingerprint FROM receipts r
             JOIN unnest($1::text[], $2::text[]) AS k(provider, trade_no)
               ON k.provider = r.provider AND k.trade_no = r.trade_no`,
            [notInserted.map((t) => t.receipt.provider), notInserted.map((t) => t.receipt.tradeNo)],
          );
        for (const r of rows) stored.set(`${r.provider}\u0000${r.trade_no}`, r.fingerprint);
      }
      for (const t of notInserted) {
        const key = `${t.receipt.provider}\u0000${t.receipt.tradeNo}`;
        if (stored.get(key) === t.fingerprint) result.duplicates++;
        else result.rejected.push({ line: t.line, code: 'RECEIPT_CONFLICT' });
      }
      for (const l of later) {
        const winner = stored.get(l.key) ?? firstByKey.get(l.key)?.fingerprint;
        if (winner === l.fingerprint) result.duplicates++;
        else result.rejected.push({ line: l.line, code: 'RECEIPT_CONFLICT' });
      }
    }
    result.rejected.sort((a, b) => a.line - b.line);
    return result;
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
