import { randomBytes } from 'node:crypto';
import { signHmac } from '../../libs/receipts/src/verifiers/test-signers';
import { bearer, HMAC_SECRET } from '../helpers/test-app';
import type { TestApp } from '../helpers/test-app';
import { createMerchantWithStore } from './directory.factory';

export interface ReceiptOptions {
  accountId: string;
  payer?: string; // without the provider prefix
  provider?: string;
  amountMinor?: number;
  paidAt?: Date;
  subject?: string;
}

/** A receipt through the generic HMAC route; returns the stored receipt. */
export async function createReceipt(t: TestApp, o: ReceiptOptions) {
  const body = JSON.stringify({
    provider: o.provider ?? 'sunmi-pos',
    tradeNo: `T${randomBytes(8).toString('hex')}`,
    payerId: o.payer ?? `c${randomBytes(5).toString('hex')}`,
    accountId: o.accountId,
    amountMinor: o.amountMinor ?? 12800,
    currency: 'CNY',
    paidAt: (o.paidAt ?? new Date(Date.now() - 3600_000)).toISOString(),
    subject: o.subject ?? '电水壶 1.7L',
  });
  const res = await t.http
    .post('/v1/receipts')
    .set('content-type', 'application/json')
    .set('x-hejie-signature', signHmac(body, HMAC_SECRET))
    .send(body);
  if (res.status !== 201)
    throw new Error(`receipt refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as {
    id: string;
    payerId: string;
    amountMinor: number;
    merchantId: string | null;
  };
}

// ------------------------------------------------------------------------------------------
// Complaint helpers for the complaints e2e suites.

type Headers = { Authorization: string };

/** An office covering `regionCodes` (admin route); returns the stored office. */
export async function createOffice(
  t: TestApp,
  regionCodes: string[],
  name = 'Market regulation office',
) {
  const res = await t.http
    .post('/v1/offices')
    .set(bearer(t.token({ role: 'admin' })))
    .send({ name, regionCodes });
  if (res.status !== 201)
    throw new Error(`office refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; name: string; regionCodes: string[] };
}

/** The complainant of the case packet (PUT …/complainant, or `complainant` when escalating). */
export const COMPLAINANT = {
  realName: '张三',
  phone: '13900001111',
  address: '浙江省杭州市西湖区文三路100号2幢301室',
};

/** Gives the case packet its complainant (needed before an office may accept the case). */
export async function provideComplainant(t: TestApp, id: string, consumer: Headers) {
  const res = await t.http.put(`/v1/complaints/${id}/complainant`).set(consumer).send(COMPLAINANT);
  expectStatus(res, 204, 'complainant');
}

/** A valid complaint body for `receiptId`; override any field. */
export function complaintBody(receiptId: string, overrides: Record<string, unknown> = {}) {
  return {
    receiptId,
    category: 'quality',
    demand: { type: 'refund', amountMinor: 12800 },
    description: 'The kettle leaks from the bottom after two uses.',
    ...overrides,
  };
}

/** A merchant with one store in `regionCode`, and a bearer header for one of its staff. */
export async function createShop(
  t: TestApp,
  regionCode: string,
  storeOverrides: Record<string, unknown> = {},
) {
  const shop = await createMerchantWithStore(t, { regionCode, ...storeOverrides });
  const staffSub = `staff-${randomBytes(4).toString('hex')}`;
  return {
    ...shop,
    accountId: shop.account('sunmi-pos'),
    staff: bearer(t.token({ role: 'merchant', sub: staffSub, merchantId: shop.merchant.id })),
  };
}
export type Shop = Awaited<ReturnType<typeof createShop>>;

export type TicketState =
  | 'awaiting_merchant'
  | 'in_negotiation'
  | 'pending_offer'
  | 'settling'
  | 'resolved'
  | 'withdrawn'
  | 'escalated'
  | 'mediating';

export interface Ticket {
  id: string;
  receiptId: string;
  consumer: Headers;
  consumerSub: string;
  offerId: string | null;
  body: Record<string, any>;
}

function expectStatus(res: { status: number; body: unknown }, status: number, what: string) {
  if (res.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/**
 * A fresh ticket (new payer, new receipt) of `shop`, driven through the API into `state`.
 * `regulator` is needed for 'mediating' (an officer of the office the ticket is routed to).
 */
export async function ticketIn(
  t: TestApp,
  shop: Shop,
  state: TicketState,
  opts: {
    regulator?: Headers;
    contactPhone?: string;
    demand?: Record<string, unknown>;
    complainant?: false | typeof COMPLAINANT;
  } = {},
): Promise<Ticket> {
  const receipt = await createReceipt(t, { accountId: shop.accountId });
  const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
  const created = await t.http
    .post('/v1/complaints')
    .set(consumer)
    .send(
      complaintBody(receipt.id, {
        ...(opts.contactPhone ? { contactPhone: opts.contactPhone } : {}),
        ...(opts.demand ? { demand: opts.demand } : {}),
      }),
    );
  expectStatus(created, 201, 'create complaint');
  const id: string = created.body.id;
  const ticket: Ticket = {
    id,
    receiptId: receipt.id,
    consumer,
    consumerSub: receipt.payerId,
    offerId: null,
    body: created.body,
  };
  if (state === 'awaiting_merchant') return ticket;
  if (state === 'withdrawn') {
    const r = await t.http.post(`/v1/complaints/${id}/withdraw`).set(consumer).send({});
    expectStatus(r, 200, 'withdraw');
    ticket.body = r.body;
    return ticket;
  }
  const msg = await t.http
    .post(`/v1/complaints/${id}/messages`)
    .set(shop.staff)
    .send({ body: 'Sorry to hear that, we are looking into it.' });
  expectStatus(msg, 201, 'merchant message');
  if (state === 'in_negotiation') return ticket;
  if (state === 'pending_offer' || state === 'settling' || state === 'resolved') {
    const offer = await t.http
      .post(`/v1/complaints/${id}/offers`)
      .set(shop.staff)
      .send({ type: 'partial_refund', amountMinor: 5000, note: 'half back' });
    expectStatus(offer, 201, 'offer');
    ticket.offerId = offer.body.id;
    if (state === 'pending_offer') return ticket;
    const acc = await t.http
      .post(`/v1/complaints/${id}/offers/${offer.body.id}/accept`)
      .set(consumer);
    expectStatus(acc, 200, 'accept offer');
    ticket.body = acc.body;
    if (state === 'settling') return ticket;
    // settling → resolved: the consumer confirms the offer was carried out.
    const done = await t.http.post(`/v1/complaints/${id}/settlement/confirm`).set(consumer);
    expectStatus(done, 200, 'confirm settlement');
    ticket.body = done.body;
    return ticket;
  }
  // The complainant's details go with the escalation (the case packet an office needs before
  // it may accept); `complainant: false` leaves them out.
  const esc = await t.http
    .post(`/v1/complaints/${id}/escalate`)
    .set(consumer)
    .send({
      reason: 'The merchant does not offer anything useful.',
      ...(opts.complainant === false ? {} : { complainant: opts.complainant ?? COMPLAINANT }),
    });
  expectStatus(esc, 200, 'escalate');
  ticket.body = esc.body;
  if (state === 'escalated') return ticket;
  if (!opts.regulator) throw new Error('ticketIn(mediating) needs a regulator');
  const acc = await t.http.post(`/v1/complaints/${id}/accept`).set(opts.regulator);
  expectStatus(acc, 200, 'regulator accept');
  ticket.body = acc.body;
  return ticket;
}

/**
 * Rows of `complaints` for one receipt, to prove that a refused request wrote nothing. (Per
 * receipt, not the whole table: other suites write tickets into the same database meanwhile.)
 */
export async function countComplaints(t: TestApp, receiptId: string): Promise<number> {
  const [{ n }] = await t.db.query(
    'SELECT count(*)::int AS n FROM complaints WHERE receipt_id = $1',
    [receiptId],
  );
  return n;
}
