/*
 * Which lib owns which table. A lib's SQL names only its own tables; it reads another lib's
 * through that lib's narrow reads (directory: MerchantReads, StoreReads, OfficeReads; receipts:
 * ReceiptReads; complaints: TicketReads, TicketFeed). Apps name no table at all.
 * table-owners.spec.ts checks every SQL text in apps/ and libs/ against this file, and that every
 * table a migration creates has an owner here.
 */

export type TableOwner = 'directory' | 'receipts' | 'complaints';

export const TABLE_OWNERS: Readonly<Record<string, TableOwner>> = {
  merchants: 'directory',
  stores: 'directory',
  payment_accounts: 'directory',
  offices: 'directory',
  office_regions: 'directory',

  receipts: 'receipts',
  refunds: 'receipts',
  receipt_keys: 'receipts',
  refund_keys: 'receipts',

  complaints: 'complaints',
  complaint_events: 'complaints',
  complaint_offers: 'complaints',
  complaint_complainants: 'complaints',
  outbox: 'complaints',
  webhook_deliveries: 'complaints',
  stats_daily: 'complaints',
  stats_resolve_hours: 'complaints',
  stats_region_daily: 'complaints',
  stats_open: 'complaints',
  stats_region_open: 'complaints',
  attachments: 'complaints',
  attachment_blobs: 'complaints',
  attachment_chunks: 'complaints',
  calendar_versions: 'complaints',
  trail_checkpoints: 'complaints',
  trail_checkpoint_leaves: 'complaints',
  trail_checkpoint_heads: 'complaints',
};

/** A file allowed to name another lib's tables in its SQL, and why. */
export interface CrossLibSql {
  /** Path from the repository root. */
  file: string;
  tables: readonly string[];
  why: string;
}

/**
 * Joins across libs kept for speed or for one snapshot: set-based statements over thousands of
 * rows, or a claim whose lease and the data it needs must be one statement. Keep this short; a
 * stale entry (the file no longer names the table) fails the check too.
 */
export const CROSS_LIB_SQL: readonly CrossLibSql[] = [
  {
    file: 'libs/complaints/src/settlement/settlement-rules.ts',
    tables: ['receipts', 'refunds'],
    why: 'the sweep of settling tickets whose refunds cover their offer is one set-based statement (SETTLING_COVERED_SQL), not a read per ticket',
  },
  {
    file: 'libs/complaints/src/mail/mail.service.ts',
    tables: ['merchants'],
    why: 'mail rows are written, swept (reminders) and claimed set-based, only for merchants with a contact e-mail, in the same statement',
  },
  {
    file: 'libs/complaints/src/changes/change-writer.ts',
    tables: ['merchants'],
    why: "the change writer inserts webhook deliveries and mail rows in the event's transaction only for merchants with a webhook URL / contact e-mail, checked by the INSERT itself (batches of thousands)",
  },
  {
    file: 'libs/complaints/src/webhooks/webhooks.service.ts',
    tables: ['merchants'],
    why: 'the claim of due deliveries (a lease: UPDATE … RETURNING) reads the URL and secret it will use in the same statement',
  },
  // Kept on purpose (issue 12): the narrow reads (ReceiptReads, StoreReads, MerchantReads) would
  // turn "initiate resolution" back into several round trips and several snapshots; the one read
  // is what took a creation from 11 statements to 2 (docs/PERFORMANCE.md, Scenario 2).
  {
    file: 'libs/complaints/src/ticket-intake.ts',
    tables: ['receipts', 'receipt_keys', 'stores', 'merchants'],
    why: "intake reads the receipt (its month from receipt_keys), its store and merchant, the caller's replay and the receipt's ticket in one statement, so one round trip and one snapshot: a same-key ticket committed in parallel shows as the replay, never as a conflict",
  },
];
