/*
 * TicketView.actions over HTTP: each viewer gets its own list (GET one, the list, an action's
 * answer), computed from the ticket's state at the time of the request. The rules themselves
 * are unit-tested per status and role (libs/complaints/src/policy/actions.spec.ts); this checks
 * the wiring and the OpenAPI promise.
 */
import { bearer, startTestApp } from './helpers/test-app';
import type { TestApp } from './helpers/test-app';
import { createOffice, createShop, ticketIn } from './factories/complaint.factory';
import type { Shop } from './factories/complaint.factory';

describe('TicketView.actions', () => {
  let t: TestApp;
  let shop: Shop;
  let officer: { Authorization: string };
  const regionCode = `3301${50 + Math.floor(Math.random() * 10)}`;

  beforeAll(async () => {
    t = await startTestApp();
    const office = await createOffice(t, [regionCode], 'actions office');
    officer = bearer(t.token({ role: 'regulator', sub: 'officer-actions', officeId: office.id }));
    shop = await createShop(t, regionCode);
  });
  afterAll(() => t.close());

  it('a new ticket: the consumer may not escalate yet, the merchant may offer', async () => {
    const tk = await ticketIn(t, shop, 'awaiting_merchant');
    // The 201's ticket is the consumer's view.
    expect(tk.body.actions).toEqual(['message', 'withdraw', 'attach']);
    const asMerchant = await t.http.get(`/v1/complaints/${tk.id}`).set(shop.staff).expect(200);
    expect(asMerchant.body.actions).toEqual(['message', 'offer', 'attach']);
    const list = await t.http.get('/v1/complaints?limit=100').set(tk.consumer).expect(200);
    const item = list.body.items.find((x: { id: string }) => x.id === tk.id);
    expect(item.actions).toEqual(['message', 'withdraw', 'attach']);
  });

  it('once the merchant answered: escalate; with a pending offer: accept and reject', async () => {
    const tk = await ticketIn(t, shop, 'pending_offer');
    const mine = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200);
    expect(mine.body.actions).toEqual([
      'message',
      'accept_offer',
      'reject_offer',
      'withdraw',
      'escalate',
      'attach',
    ]);
    // The escalation's answer already carries what the consumer may do next.
    const escalated = await t.http
      .post(`/v1/complaints/${tk.id}/escalate`)
      .set(tk.consumer)
      .send({ reason: 'No agreement on the refund.' })
      .expect(200);
    expect(escalated.body.actions).toEqual(['message', 'add_case_details', 'attach']);
    const office = await t.http.get(`/v1/complaints/${tk.id}`).set(officer).expect(200);
    expect(office.body.actions).toEqual([
      'message',
      'attach',
      'accept_case',
      'decline',
      'transfer',
      'extend',
    ]);
  });
});
