import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * The complaints lib's narrow reads for the rest of the system (the lib owns `complaints`; no
 * other lib or app names it in SQL: libs/database/src/table-owners.ts).
 */
@Injectable()
export class TicketReads {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** receipt id → the id of the ticket opened from it (a receipt has at most one). */
  async idsByReceipt(receiptIds: readonly string[]): Promise<Map<string, string>> {
    if (!receiptIds.length) return new Map();
    const rows: { id: string; receipt_id: string }[] = await this.db.query(
      'SELECT id, receipt_id FROM complaints WHERE receipt_id = ANY($1::uuid[])',
      [[...new Set(receiptIds)]],
    );
    return new Map(rows.map((r) => [r.receipt_id, r.id]));
  }
}
