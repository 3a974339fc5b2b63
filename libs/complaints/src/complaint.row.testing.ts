import type { ComplaintRow } from './complaint.row';

/**
 * For specs: a ticket row as intake writes it (awaiting_merchant, every timestamp `at`), with
 * the columns of `over` replacing those. The columns of later steps are left out: the views
 * read a missing column as null.
 */
export function complaintRow(at: Date, over: Record<string, unknown> = {}): ComplaintRow {
  return {
    id: '6f1c7c55-3a0e-4b4c-9d55-1d2b8f0a1e01',
    number: 'HJ-261123-000001',
    status: 'awaiting_merchant',
    receipt_id: 'r1',
    consumer_id: 'alipay:2088',
    merchant_id: 'm1',
    store_id: 's1',
    region_code: '330106',
    order_snapshot: {},
    category: 'quality',
    demand_type: 'repair',
    demand_amount_minor: null,
    description: 'The kettle stopped heating.',
    contact_phone_enc: null,
    contact_phone_masked: null,
    merchant_respond_by: at,
    resolve_by: at,
    event_count: 1,
    head_hash: null,
    created_at: at,
    updated_at: at,
    ...over,
  } as unknown as ComplaintRow;
}
