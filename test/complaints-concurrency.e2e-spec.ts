/*
 * Races the API must settle with exactly one winner (unique indexes, SELECT … FOR UPDATE and
 * the guarded UPDATE … WHERE status = …), and the per-caller rate limit on complaint creation.
 * Ningxia region codes (640104): routing is global in the run's shared database.
 */
import { randomBytes } from 'node:crypto';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import {
  complaintBody,
  countComplaints,
  createOffice,
  createReceipt,
  createShop,
  Shop,
  ticketIn,
} from './factories/complaint.factory';

const REGION = '640104';

describe('complaint races', () => {
  let t: TestApp;
  let shop: Shop;

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000', RATE_LIMIT_WINDOW: '1m' });
    shop = await createShop(t, REGION);
    await createOffice(t, [REGION], '银川市兴庆区市场监督管理局');
  });
  afterAll(() => t.close());

  const verify = async (id: string) =>
    (
      await t.http
        .get(`/v1/complaints/${id}/events/verify`)
        .set(bearer(t.token({ role: 'admin' })))
        .expect(200)
    ).body;
  const eventTypes = async (id: string): Promise<string[]> =>
    (
      await t.db.query('SELECT type FROM complaint_events WHERE complaint_id = $1 ORDER BY seq', [
        id,
      ])
    ).map((r: { type: string }) => r.type);
  const pendingOffers = async (id: string): Promise<number> =>
    (
      await t.db.query(
        `SELECT count(*)::int AS n FROM complaint_offers WHERE complaint_id = $1 AND status = 'pending'`,
        [id],
      )
    )[0].n;

  it('20 parallel creations with one Idempotency-Key: all 201 with the same ticket, one row', async () => {
    const receipt = await createReceipt(t, { accountId: shop.accountId });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const key = `tap-${randomBytes(6).toString('hex')}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.http
          .post('/v1/complaints')
          .set(consumer)
          .set('Idempotency-Key', key)
          .send(complaintBody(receipt.id)),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(new Set(results.map((r) => r.body.number)).size).toBe(1);
    expect(await countComplaints(t, receipt.id)).toBe(1);
    const [id] = ids;
    expect(await eventTypes(id)).toEqual(['created']);
    expect(await verify(id)).toEqual({ valid: true, length: 1 });
  });

  it('20 parallel creations without a key: one 201, nineteen 409 COMPLAINT_EXISTS naming it', async () => {
    const receipt = await createReceipt(t, { accountId: shop.accountId });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.http.post('/v1/complaints').set(consumer).send(complaintBody(receipt.id)),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    const conflicts = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    const id = created[0].body.id;
    for (const r of conflicts)
      expect(r.body).toMatchObject({ code: 'COMPLAINT_EXISTS', complaintId: id });
    expect(await countComplaints(t, receipt.id)).toBe(1);
    expect(await eventTypes(id)).toEqual(['created']);
  });

  it('consumer accept vs merchant new offer: exactly one wins, on every ticket, and the trail verifies', async () => {
    const outcomes = { accepted: 0, superseded: 0 };
    for (let i = 0; i < 10; i++) {
      const tk = await ticketIn(t, shop, 'pending_offer');
      const [accept, offer] = await Promise.all([
        t.http.post(`/v1/complaints/${tk.id}/offers/${tk.offerId}/accept`).set(tk.consumer),
        t.http
          .post(`/v1/complaints/${tk.id}/offers`)
          .set(shop.staff)
          .send({ type: 'refund', amountMinor: 12800 }),
      ]);
      const wins = [accept.status === 200, offer.status === 201].filter(Boolean).length;
      expect(wins).toBe(1);
      const loser = accept.status === 200 ? offer : accept;
      expect(loser.status).toBe(409);
      expect(loser.body.code).toBe('INVALID_TRANSITION');

      const view = (await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200)).body;
      const offers = (
        await t.http.get(`/v1/complaints/${tk.id}/offers`).set(tk.consumer).expect(200)
      ).body.items.map((o: { status: string }) => o.status);
      if (accept.status === 200) {
        outcomes.accepted++;
        expect(view).toMatchObject({ status: 'settling', pendingOfferId: null });
        expect(offers).toEqual(['accepted']);
        expect(await eventTypes(tk.id)).toEqual([
          'created',
          'message',
          'offer_made',
          'offer_accepted',
        ]);
      } else {
        outcomes.superseded++;
        expect(view).toMatchObject({ status: 'in_negotiation', pendingOfferId: offer.body.id });
        expect(offers).toEqual(['superseded', 'pending']);
        expect(await eventTypes(tk.id)).toEqual(['created', 'message', 'offer_made', 'offer_made']);
      }
      expect(await pendingOffers(tk.id)).toBeLessThanOrEqual(1);
      expect(await verify(tk.id)).toMatchObject({ valid: true });
    }
    expect(outcomes.accepted + outcomes.superseded).toBe(10);
  });

  it('consumer accept vs consumer reject of the same offer: one wins', async () => {
    for (let i = 0; i < 5; i++) {
      const tk = await ticketIn(t, shop, 'pending_offer');
      const results = await Promise.all([
        t.http.post(`/v1/complaints/${tk.id}/offers/${tk.offerId}/accept`).set(tk.consumer),
        t.http
          .post(`/v1/complaints/${tk.id}/offers/${tk.offerId}/reject`)
          .set(tk.consumer)
          .send({}),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const offers = (
        await t.http.get(`/v1/complaints/${tk.id}/offers`).set(tk.consumer).expect(200)
      ).body.items;
      expect(offers).toHaveLength(1);
      expect(['accepted', 'rejected']).toContain(offers[0].status);
      expect(await verify(tk.id)).toEqual({ valid: true, length: 4 });
    }
  });

  it('parallel offers from two staff: both land in turn, one pending offer remains', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    const other = bearer(
      t.token({ role: 'merchant', sub: 'staff-b', merchantId: shop.merchant.id }),
    );
    const results = await Promise.all(
      [shop.staff, other, shop.staff, other, shop.staff].map((who, i) =>
        t.http
          .post(`/v1/complaints/${tk.id}/offers`)
          .set(who)
          .send({ type: 'partial_refund', amountMinor: 1000 + i }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill(201));
    expect(await pendingOffers(tk.id)).toBe(1);
    const offers = (await t.http.get(`/v1/complaints/${tk.id}/offers`).set(tk.consumer).expect(200))
      .body.items;
    expect(offers.filter((o: { status: string }) => o.status === 'superseded')).toHaveLength(4);
    const view = (await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200)).body;
    expect(view.pendingOfferId).toBe(
      offers.find((o: { status: string }) => o.status === 'pending').id,
    );
    expect(await verify(tk.id)).toEqual({ valid: true, length: 7 });
  });

  it('two escalations at once: one 200, one 409, one escalated event', async () => {
    for (let i = 0; i < 5; i++) {
      const tk = await ticketIn(t, shop, 'in_negotiation');
      const results = await Promise.all(
        [0, 1].map(() =>
          t.http
            .post(`/v1/complaints/${tk.id}/escalate`)
            .set(tk.consumer)
            .send({ reason: 'Nothing happens.' }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expect(loser.body.code).toBe('INVALID_TRANSITION');
      const types = await eventTypes(tk.id);
      expect(types.filter((x) => x === 'escalated')).toHaveLength(1);
      expect(await verify(tk.id)).toEqual({ valid: true, length: types.length });
    }
  });

  it('escalation vs withdrawal: exactly one of them happens', async () => {
    for (let i = 0; i < 5; i++) {
      const tk = await ticketIn(t, shop, 'in_negotiation');
      const [esc, wd] = await Promise.all([
        t.http.post(`/v1/complaints/${tk.id}/escalate`).set(tk.consumer).send({ reason: 'x' }),
        t.http.post(`/v1/complaints/${tk.id}/withdraw`).set(tk.consumer).send({}),
      ]);
      expect([esc.status, wd.status].sort()).toEqual([200, 409]);
      const view = (await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200)).body;
      expect(view.status).toBe(esc.status === 200 ? 'escalated' : 'withdrawn');
      expect(await verify(tk.id)).toMatchObject({ valid: true });
    }
  });

  describe('rate limit (RATE_LIMIT=3 per RATE_LIMIT_WINDOW=1m, per caller)', () => {
    let limited: TestApp;
    beforeAll(async () => {
      limited = await startTestApp({ RATE_LIMIT: '3', RATE_LIMIT_WINDOW: '1m' });
    });
    afterAll(() => limited.close());

    it('the 4th creation by one consumer → 429 RATE_LIMITED with Retry-After; another consumer is unaffected', async () => {
      const payer = `c${randomBytes(5).toString('hex')}`;
      const receipts = [];
      for (let i = 0; i < 4; i++)
        receipts.push(await createReceipt(limited, { accountId: shop.accountId, payer }));
      const consumer = bearer(limited.token({ role: 'consumer', sub: `sunmi-pos:${payer}` }));
      for (const r of receipts.slice(0, 3)) {
        const ok = await limited.http
          .post('/v1/complaints')
          .set(consumer)
          .send(complaintBody(r.id));
        expect(ok.status).toBe(201);
      }
      const fourth = await limited.http
        .post('/v1/complaints')
        .set(consumer)
        .send(complaintBody(receipts[3].id));
      expect(fourth.status).toBe(429);
      expect(fourth.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(fourth.headers['content-type']).toMatch(/^application\/problem\+json/);
      const retryAfter = Number(fourth.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await countComplaints(limited, receipts[3].id)).toBe(0);

      const someoneElse = await createReceipt(limited, { accountId: shop.accountId });
      const other = bearer(limited.token({ role: 'consumer', sub: someoneElse.payerId }));
      const res = await limited.http
        .post('/v1/complaints')
        .set(other)
        .send(complaintBody(someoneElse.id));
      expect(res.status).toBe(201);
      // Reading is not limited for the throttled consumer.
      await limited.http.get('/v1/complaints').set(consumer).expect(200);
    });
  });
});
