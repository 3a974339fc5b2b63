import type { EntityManager } from 'typeorm';
import { StoreReads } from '@app/directory';
import { DomainError, openFor, sealFor } from '@app/shared';
import type { ComplaintRow } from '../complaint.row';

/** The complainant's details a 12315 office needs (national complaint-handling measures). */
export interface Complainant {
  realName: string;
  phone: string;
  address: string;
}

/** Every field the packet needs, as `missing` names them. */
export const PACKET_FIELDS = [
  'complainant.realName',
  'complainant.phone',
  'complainant.address',
  'respondent.name',
  'respondent.creditCode',
  'respondent.address',
  'request.category',
  'request.demand',
  'facts.description',
] as const;
export type PacketField = (typeof PACKET_FIELDS)[number];

/**
 * The ONE place the complainant's details are sealed and opened: a key of their own derived from
 * PII_KEY (purpose 'complainant'), the ticket id as associated data, so a sealed value copied to
 * another ticket does not open (libs/shared/src/crypto).
 */
export function sealComplainant(c: Complainant, piiKey: Buffer, complaintId: string): string {
  return sealFor(piiKey, 'complainant', complaintId, JSON.stringify(c));
}

export function openComplainant(sealed: string, piiKey: Buffer, complaintId: string): Complainant {
  return JSON.parse(openFor(piiKey, 'complainant', complaintId, sealed)) as Complainant;
}

/** The respondent as the directory knows it (merchant's legal name and credit code, the store). */
export interface Respondent {
  name: string;
  creditCode: string;
  address: string;
  storeName: string;
}

export async function readRespondent(
  db: Pick<EntityManager, 'query'>,
  t: Pick<ComplaintRow, 'merchant_id' | 'store_id'>,
): Promise<Respondent> {
  const r = await StoreReads.respondent(db, t.merchant_id, t.store_id);
  return {
    name: r?.name?.trim() ?? '',
    creditCode: r?.creditCode?.trim() ?? '',
    address: r?.storeAddress?.trim() ?? '',
    storeName: r?.storeName?.trim() ?? '',
  };
}

/** Which packet fields are still empty. */
export function missingFields(
  t: Pick<ComplaintRow, 'category' | 'demand_type' | 'description'>,
  complainant: Complainant | null | 'sealed',
  respondent: Respondent,
): PacketField[] {
  const has: Record<PacketField, boolean> = {
    'complainant.realName': complainant === 'sealed' || Boolean(complainant?.realName?.trim()),
    'complainant.phone': complainant === 'sealed' || Boolean(complainant?.phone?.trim()),
    'complainant.address': complainant === 'sealed' || Boolean(complainant?.address?.trim()),
    'respondent.name': Boolean(respondent.name),
    'respondent.creditCode': Boolean(respondent.creditCode),
    'respondent.address': Boolean(respondent.address),
    'request.category': Boolean(t.category),
    'request.demand': Boolean(t.demand_type),
    'facts.description': Boolean(t.description?.trim()),
  };
  return PACKET_FIELDS.filter((f) => !has[f]);
}

/**
 * What the packet of ticket `t` still needs, read in `db` (the accepting transaction, under the
 * ticket's row lock). A sealed complainant row always holds all three fields (the API requires
 * them together), so it is not opened here.
 */
export async function packetMissing(
  db: Pick<EntityManager, 'query'>,
  t: Pick<
    ComplaintRow,
    'id' | 'merchant_id' | 'store_id' | 'category' | 'demand_type' | 'description'
  >,
): Promise<PacketField[]> {
  const [c]: { n: number }[] = await db.query(
    `SELECT count(*)::int AS n FROM complaint_complainants WHERE complaint_id = $1`,
    [t.id],
  );
  return missingFields(t, c.n > 0 ? 'sealed' : null, await readRespondent(db, t));
}

/** 422 CASE_PACKET_INCOMPLETE naming the missing fields (in `missing` and in `errors`). */
export async function assertPacketComplete(
  db: Pick<EntityManager, 'query'>,
  t: Parameters<typeof packetMissing>[1],
): Promise<void> {
  const missing = await packetMissing(db, t);
  if (!missing.length) return;
  throw new DomainError(
    'CASE_PACKET_INCOMPLETE',
    `the case packet is missing ${missing.join(', ')}`,
    { missing },
    missing.map((field) => ({ field, message: 'required before the case can be accepted' })),
  );
}
