/*
 * Complaint tickets end to end (API.md "Complaints", DESIGN.md "Ticket lifecycle"): creation and
 * its refusals, PII at rest, negotiation, escalation and routing, the regulator phase, the
 * hash-chained trail and the role-scoped lists.
 *
 * Every Jest worker shares the run's database, and other suites create offices (e.g. for 33,
 * 3301, 330106 and 44). Routing picks the longest prefix and, between equal ones, the oldest
 * office, so this suite works in region codes nobody else uses: Xinjiang (650102) for its
 * tickets, Gansu (62 / 6201 / 620102) and Tibet (540102, no office) for routing.
 */
import { randomBytes } from 'node:crypto';
import { computeAcceptBy, computeMediationEndBy } from '../libs/complaints/src/lifecycle';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { FakeClock } from './helpers/fake-clock';
import { asInsider } from './helpers/insider';
import {
  COMPLAINANT,
  complaintBody,
  countComplaints,
  createOffice,
  createReceipt,
  createShop,
  Shop,
  ticketIn,
} from './factories/complaint.factory';
import { uniqueAccount } from './factories/directory.factory';

const REGION = '650102';
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const ISO_WITH_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

type H = { Authorization: string };

/**
 * Each app gets the whole set of overrides: startTestApp writes them into process.env. `clock`:
 * a FakeClock for the app's domain time (deadline tests).
 */
function boot(env: Record<string, string | undefined> = {}, clock?: FakeClock) {
  return startTestApp(
    {
      MERCHANT_RESPONSE_SLA: '2h',
      RESOLUTION_SLA: '3d',
      COMPLAINT_WINDOW_DAYS: undefined,
      RATE_LIMIT: '100000',
      ...env,
    },
    { clock },
  );
}

/** Follows nextCursor to the end; fails on a page that repeats an id. */
async function walk(t: TestApp, path: string, who: H, limit = 2): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url: string = `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await t.http.get(url).set(who).expect(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

describe('complaints', () => {
  let t: TestApp;
  let shop: Shop;
  let office: { id: string };
  let officer: H;
  const admin = () => bearer(t.token({ role: 'admin' }));

  beforeAll(async () => {
    t = await boot();
    shop = await createShop(t, REGION, {
      name: '西湖茶社',
      address: '乌鲁木齐市天山区解放北路1号',
    });
    office = await createOffice(t, [REGION], '乌鲁木齐市天山区市场监督管理局');
    officer = bearer(t.token({ role: 'regulator', sub: 'officer-650102', officeId: office.id }));
  });
  afterAll(() => t.close());

  const consumerOf = (receipt: { payerId: string }) =>
    bearer(t.token({ role: 'consumer', sub: receipt.payerId }));

  // -------------------------------------------------------------------------------- create

  describe('POST /v1/complaints', () => {
    it('201: the ticket of API.md, order facts from the receipt and store, SLA clocks from createdAt', async () => {
      const paidAt = new Date(Date.now() - 2 * DAY);
      const receipt = (await createReceipt(t, {
        accountId: shop.accountId,
        amountMinor: 25900,
        paidAt,
        subject: '破壁机 X9',
      })) as any;
      const consumer = consumerOf(receipt);
      const before = await t.http.get(`/v1/receipts/${receipt.id}`).set(consumer).expect(200);
      expect(before.body.complaintId).toBeNull();

      const t0 = Date.now();
      const res = await t.http
        .post('/v1/complaints')
        .set(consumer)
        .send({
          receiptId: receipt.id,
          category: 'not_as_described',
          demand: { type: 'partial_refund', amountMinor: 10000 },
          description: 'The blender is the X7, not the X9 that was paid for.',
        });
      const t1 = Date.now();
      expect(res.status).toBe(201);
      const b = res.body;
      expect(b).toMatchObject({
        status: 'awaiting_merchant',
        receiptId: receipt.id,
        merchantId: shop.merchant.id,
        storeId: shop.store.id,
        regionCode: REGION,
        order: {
          tradeNo: receipt.tradeNo,
          amountMinor: 25900,
          currency: 'CNY',
          paidAt: paidAt.toISOString(),
          subject: '破壁机 X9',
          storeName: '西湖茶社',
          storeAddress: '乌鲁木齐市天山区解放北路1号',
        },
        category: 'not_as_described',
        demand: { type: 'partial_refund', amountMinor: 10000 },
        description: 'The blender is the X7, not the X9 that was paid for.',
      });
      expect(b.id).toMatch(/^[0-9a-f-]{36}$/);
      // HJ-YYMMDD-NNNNNN, the date being the filing day in Asia/Shanghai.
      expect(b.number).toMatch(/^HJ-\d{6}-\d{6}$/);
      const shanghai = new Date(Date.parse(b.createdAt) + 8 * HOUR).toISOString();
      expect(b.number.slice(3, 9)).toBe(
        shanghai.slice(2, 4) + shanghai.slice(5, 7) + shanghai.slice(8, 10),
      );
      for (const k of ['createdAt', 'merchantRespondBy', 'resolveBy'])
        expect(b[k]).toMatch(ISO_WITH_OFFSET);
      const createdAt = Date.parse(b.createdAt);
      expect(createdAt).toBeGreaterThanOrEqual(t0 - 5);
      expect(createdAt).toBeLessThanOrEqual(t1 + 5);
      expect(Date.parse(b.merchantRespondBy) - createdAt).toBe(2 * HOUR); // MERCHANT_RESPONSE_SLA
      expect(Date.parse(b.resolveBy) - createdAt).toBe(3 * DAY); // RESOLUTION_SLA
      expect(b).toMatchObject({ firstResponseAt: null, pendingOfferId: null, officeId: null });

      const after = await t.http.get(`/v1/receipts/${receipt.id}`).set(consumer).expect(200);
      expect(after.body.complaintId).toBe(b.id);
      const bills = await t.http.get('/v1/receipts').set(consumer).expect(200);
      expect(bills.body.items.find((r: any) => r.id === receipt.id).complaintId).toBe(b.id);
    });

    it('numbers are unique and increase', async () => {
      const a = await ticketIn(t, shop, 'awaiting_merchant');
      const b = await ticketIn(t, shop, 'awaiting_merchant');
      expect(a.body.number).not.toBe(b.body.number);
      expect(Number(b.body.number.slice(-6))).toBeGreaterThan(Number(a.body.number.slice(-6)));
    });

    describe('refusals write nothing', () => {
      it('404 NOT_FOUND for a consumer who is not the payer (and for a receipt that does not exist)', async () => {
        const receipt = await createReceipt(t, { accountId: shop.accountId });
        const other = bearer(t.token({ role: 'consumer', sub: 'sunmi-pos:someone-else' }));
        const res = await t.http.post('/v1/complaints').set(other).send(complaintBody(receipt.id));
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('NOT_FOUND');
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        // The payer's id without its provider prefix is someone else too.
        const bare = bearer(t.token({ role: 'consumer', sub: receipt.payerId.split(':')[1] }));
        await t.http.post('/v1/complaints').set(bare).send(complaintBody(receipt.id)).expect(404);
        const missing = complaintBody('00000000-0000-4000-8000-000000000000');
        await t.http.post('/v1/complaints').set(consumerOf(receipt)).send(missing).expect(404);
        expect(await countComplaints(t, receipt.id)).toBe(0);
      });

      it('403 FORBIDDEN for a merchant (and admin, regulator); 401 without a token', async () => {
        const receipt = await createReceipt(t, { accountId: shop.accountId });
        for (const who of [shop.staff, admin(), officer]) {
          const res = await t.http.post('/v1/complaints').set(who).send(complaintBody(receipt.id));
          expect(res.status).toBe(403);
          expect(res.body.code).toBe('FORBIDDEN');
        }
        const anon = await t.http.post('/v1/complaints').send(complaintBody(receipt.id));
        expect(anon.status).toBe(401);
        expect(anon.body.code).toBe('UNAUTHENTICATED');
        expect(await countComplaints(t, receipt.id)).toBe(0);
      });

      it('422 COMPLAINT_WINDOW_EXPIRED for a payment 31 days ago', async () => {
        const receipt = await createReceipt(t, {
          accountId: shop.accountId,
          paidAt: new Date(Date.now() - 31 * DAY),
        });
        const res = await t.http
          .post('/v1/complaints')
          .set(consumerOf(receipt))
          .send(complaintBody(receipt.id));
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('COMPLAINT_WINDOW_EXPIRED');
        expect(await countComplaints(t, receipt.id)).toBe(0);
        // 29 days ago is inside the default 30-day window.
        const recent = await createReceipt(t, {
          accountId: shop.accountId,
          paidAt: new Date(Date.now() - 29 * DAY),
        });
        await t.http
          .post('/v1/complaints')
          .set(consumerOf(recent))
          .send(complaintBody(recent.id))
          .expect(201);
      });

      it('COMPLAINT_WINDOW_DAYS moves the window both ways', async () => {
        const old = await createReceipt(t, {
          accountId: shop.accountId,
          paidAt: new Date(Date.now() - 31 * DAY),
        });
        const week = await createReceipt(t, {
          accountId: shop.accountId,
          paidAt: new Date(Date.now() - 6 * DAY),
        });
        const short = await boot({ COMPLAINT_WINDOW_DAYS: '5' });
        try {
          const res = await short.http
            .post('/v1/complaints')
            .set(consumerOf(week))
            .send(complaintBody(week.id));
          expect(res.status).toBe(422);
          expect(res.body.code).toBe('COMPLAINT_WINDOW_EXPIRED');
          expect(await countComplaints(t, week.id)).toBe(0);
        } finally {
          await short.close();
        }
        const long = await boot({ COMPLAINT_WINDOW_DAYS: '45' });
        try {
          await long.http
            .post('/v1/complaints')
            .set(consumerOf(old))
            .send(complaintBody(old.id))
            .expect(201);
        } finally {
          await long.close();
        }
        // …while the default window still takes the 6-day-old payment.
        await t.http
          .post('/v1/complaints')
          .set(consumerOf(week))
          .send(complaintBody(week.id))
          .expect(201);
      });

      it('409 COMPLAINT_EXISTS naming the ticket for a second complaint about one receipt', async () => {
        const first = await ticketIn(t, shop, 'awaiting_merchant');
        const res = await t.http
          .post('/v1/complaints')
          .set(first.consumer)
          .send(
            complaintBody(first.receiptId, { category: 'service', demand: { type: 'apology' } }),
          );
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('COMPLAINT_EXISTS');
        expect(res.body.complaintId).toBe(first.id);
        expect(await countComplaints(t, first.receiptId)).toBe(1);
      });

      it('Idempotency-Key: a replay answers 201 with the same ticket; the key on another receipt → 400', async () => {
        const payer = `c${randomBytes(5).toString('hex')}`;
        const r1 = await createReceipt(t, { accountId: shop.accountId, payer });
        const r2 = await createReceipt(t, { accountId: shop.accountId, payer });
        const consumer = consumerOf(r1);
        const key = `key-${randomBytes(6).toString('hex')}`;
        const a = await t.http
          .post('/v1/complaints')
          .set(consumer)
          .set('Idempotency-Key', key)
          .send(complaintBody(r1.id));
        expect(a.status).toBe(201);
        const b = await t.http
          .post('/v1/complaints')
          .set(consumer)
          .set('Idempotency-Key', key)
          .send(complaintBody(r1.id));
        expect(b.status).toBe(201);
        expect(b.body.id).toBe(a.body.id);
        expect(b.body.number).toBe(a.body.number);
        expect(await countComplaints(t, r1.id)).toBe(1);

        const c = await t.http
          .post('/v1/complaints')
          .set(consumer)
          .set('Idempotency-Key', key)
          .send(complaintBody(r2.id));
        expect(c.status).toBe(400);
        expect(c.body.code).toBe('VALIDATION_FAILED');
        expect(await countComplaints(t, r2.id)).toBe(0);
        // Without the key, the second receipt is an ordinary new complaint.
        await t.http.post('/v1/complaints').set(consumer).send(complaintBody(r2.id)).expect(201);
      });

      it('Idempotency-Key replay recognises the receipt whatever the case of its UUID', async () => {
        const receipt = await createReceipt(t, { accountId: shop.accountId });
        const key = `key-${randomBytes(6).toString('hex')}`;
        const send = () =>
          t.http
            .post('/v1/complaints')
            .set(consumerOf(receipt))
            .set('Idempotency-Key', key)
            .send(complaintBody(receipt.id.toUpperCase()));
        const a = await send();
        expect(a.status).toBe(201);
        expect(a.body.receiptId).toBe(receipt.id);
        const b = await send();
        expect(b.status).toBe(201);
        expect(b.body.id).toBe(a.body.id);
      });

      it('400 for an Idempotency-Key that is not 1–128 visible ASCII characters', async () => {
        const receipt = await createReceipt(t, { accountId: shop.accountId });
        const res = await t.http
          .post('/v1/complaints')
          .set(consumerOf(receipt))
          .set('Idempotency-Key', 'k'.repeat(129))
          .send(complaintBody(receipt.id));
        expect(res.status).toBe(400);
        expect(await countComplaints(t, receipt.id)).toBe(0);
      });

      it('422 DEMAND_EXCEEDS_PAYMENT for a refund above the amount paid; compensation may exceed it', async () => {
        const receipt = await createReceipt(t, { accountId: shop.accountId, amountMinor: 12800 });
        const consumer = consumerOf(receipt);
        for (const type of ['refund', 'partial_refund']) {
          const res = await t.http
            .post('/v1/complaints')
            .set(consumer)
            .send(complaintBody(receipt.id, { demand: { type, amountMinor: 12801 } }));
          expect(res.status).toBe(422);
          expect(res.body.code).toBe('DEMAND_EXCEEDS_PAYMENT');
        }
        expect(await countComplaints(t, receipt.id)).toBe(0);
        const ok = await t.http
          .post('/v1/complaints')
          .set(consumer)
          .send(
            complaintBody(receipt.id, { demand: { type: 'compensation', amountMinor: 3 * 12800 } }),
          );
        expect(ok.status).toBe(201);
        expect(ok.body.demand).toEqual({ type: 'compensation', amountMinor: 38400 });
      });

      it('a refund of exactly the amount paid is fine', async () => {
        const receipt = await createReceipt(t, { accountId: shop.accountId, amountMinor: 12800 });
        await t.http
          .post('/v1/complaints')
          .set(consumerOf(receipt))
          .send(complaintBody(receipt.id, { demand: { type: 'refund', amountMinor: 12800 } }))
          .expect(201);
      });

      const invalid: [string, (receiptId: string) => Record<string, unknown>, string][] = [
        [
          'refund without amountMinor',
          (id) => complaintBody(id, { demand: { type: 'refund' } }),
          'demand.amountMinor',
        ],
        [
          'compensation without amountMinor',
          (id) => complaintBody(id, { demand: { type: 'compensation' } }),
          'demand.amountMinor',
        ],
        [
          'a negative amount',
          (id) => complaintBody(id, { demand: { type: 'refund', amountMinor: -1 } }),
          'demand.amountMinor',
        ],
        [
          'a fractional amount',
          (id) => complaintBody(id, { demand: { type: 'refund', amountMinor: 10.5 } }),
          'demand.amountMinor',
        ],
        [
          'description of 9 characters',
          (id) => complaintBody(id, { description: '123456789' }),
          'description',
        ],
        [
          'description of 2001 characters',
          (id) => complaintBody(id, { description: 'x'.repeat(2001) }),
          'description',
        ],
        ['an unknown field', (id) => complaintBody(id, { priority: 'high' }), 'priority'],
        [
          'an unknown field in demand',
          (id) => complaintBody(id, { demand: { type: 'apology', urgent: true } }),
          'demand.urgent',
        ],
        ['an unknown category', (id) => complaintBody(id, { category: 'rudeness' }), 'category'],
        [
          'an unknown demand type',
          (id) => complaintBody(id, { demand: { type: 'gift' } }),
          'demand.type',
        ],
        [
          'a phone number of 5 digits',
          (id) => complaintBody(id, { contactPhone: '12345' }),
          'contactPhone',
        ],
        [
          'a phone number starting 12',
          (id) => complaintBody(id, { contactPhone: '12812345678' }),
          'contactPhone',
        ],
        [
          'a phone number with a country code',
          (id) => complaintBody(id, { contactPhone: '+8613812345678' }),
          'contactPhone',
        ],
        ['a receiptId that is not a UUID', () => complaintBody('r-1'), 'receiptId'],
      ];
      it.each(invalid)('400 VALIDATION_FAILED for %s', async (_why, body, field) => {
        const receipt = await createReceipt(t, { accountId: shop.accountId });
        const res = await t.http
          .post('/v1/complaints')
          .set(consumerOf(receipt))
          .send(body(receipt.id));
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(JSON.stringify(res.body.errors ?? res.body.detail)).toContain(field);
        expect(await countComplaints(t, receipt.id)).toBe(0);
      });

      it('descriptions of exactly 10 and 2000 characters are accepted', async () => {
        for (const description of ['0123456789', 'y'.repeat(2000)]) {
          const receipt = await createReceipt(t, { accountId: shop.accountId });
          await t.http
            .post('/v1/complaints')
            .set(consumerOf(receipt))
            .send(complaintBody(receipt.id, { description }))
            .expect(201);
        }
      });

      it('422 MERCHANT_NOT_ENROLLED for a receipt whose account maps to no store', async () => {
        const receipt = await createReceipt(t, { accountId: uniqueAccount('pos-unknown') });
        expect(receipt.merchantId).toBeNull();
        const res = await t.http
          .post('/v1/complaints')
          .set(consumerOf(receipt))
          .send(complaintBody(receipt.id));
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('MERCHANT_NOT_ENROLLED');
        expect(await countComplaints(t, receipt.id)).toBe(0);
      });
    });
  });

  // -------------------------------------------------------------------------------- PII

  describe('contact phone (PII)', () => {
    it('is encrypted at rest, masked for the merchant, clear for the consumer, the office and admins', async () => {
      const ticket = await ticketIn(t, shop, 'awaiting_merchant', { contactPhone: '13812345678' });
      expect(ticket.body.contactPhone).toBe('13812345678');
      const [row] = await t.db.query('SELECT c::text AS text FROM complaints c WHERE id = $1', [
        ticket.id,
      ]);
      expect(row.text).toContain(ticket.id);
      expect(row.text).not.toContain('13812345678');
      expect(row.text).not.toContain('12345678');
      const events = await t.db.query(
        'SELECT e::text AS text FROM complaint_events e WHERE complaint_id = $1',
        [ticket.id],
      );
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) expect(e.text).not.toContain('12345678');

      const asMerchant = await t.http
        .get(`/v1/complaints/${ticket.id}`)
        .set(shop.staff)
        .expect(200);
      expect(asMerchant.body.contactPhone).toBe('138****5678');
      const inbox = await walk(t, '/v1/complaints', shop.staff, 100);
      expect(inbox.find((x) => x.id === ticket.id).contactPhone).toBe('138****5678');
      const asConsumer = await t.http
        .get(`/v1/complaints/${ticket.id}`)
        .set(ticket.consumer)
        .expect(200);
      expect(asConsumer.body.contactPhone).toBe('13812345678');

      await t.http
        .post(`/v1/complaints/${ticket.id}/messages`)
        .set(shop.staff)
        .send({ body: 'Looking.' })
        .expect(201);
      await t.http
        .post(`/v1/complaints/${ticket.id}/escalate`)
        .set(ticket.consumer)
        .send({ reason: 'No offer.' })
        .expect(200);
      const asOfficer = await t.http.get(`/v1/complaints/${ticket.id}`).set(officer).expect(200);
      expect(asOfficer.body.officeId).toBe(office.id);
      expect(asOfficer.body.contactPhone).toBe('13812345678');
      const asAdmin = await t.http.get(`/v1/complaints/${ticket.id}`).set(admin()).expect(200);
      expect(asAdmin.body.contactPhone).toBe('13812345678');
      const again = await t.http.get(`/v1/complaints/${ticket.id}`).set(shop.staff).expect(200);
      expect(again.body.contactPhone).toBe('138****5678');
    });

    it('a phone sealed under another PII_KEY shows masked instead of failing the ticket and the lists', async () => {
      const ticket = await ticketIn(t, shop, 'escalated', { contactPhone: '13912345678' });
      const rotated = await boot(); // every test app gets a fresh random PII_KEY
      try {
        const one = await rotated.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer);
        expect(one.status).toBe(200);
        expect(one.body.contactPhone).toBe('139****5678');
        const mine = await rotated.http.get('/v1/complaints').set(ticket.consumer);
        expect(mine.status).toBe(200);
        const all = await rotated.http
          .get('/v1/complaints?status=escalated&limit=100')
          .set(bearer(rotated.token({ role: 'admin' })));
        expect(all.status).toBe(200);
      } finally {
        await rotated.close();
      }
    });

    it('a ticket without a phone shows null to everyone', async () => {
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      expect(ticket.body.contactPhone).toBeNull();
      const asMerchant = await t.http
        .get(`/v1/complaints/${ticket.id}`)
        .set(shop.staff)
        .expect(200);
      expect(asMerchant.body.contactPhone).toBeNull();
    });
  });

  // -------------------------------------------------------------------------------- negotiate

  describe('negotiation', () => {
    const offers = async (id: string, who: H) =>
      (await t.http.get(`/v1/complaints/${id}/offers`).set(who).expect(200)).body.items as any[];
    const pendingRows = async (id: string) =>
      (
        await t.db.query(
          `SELECT count(*)::int AS n FROM complaint_offers WHERE complaint_id = $1 AND status = 'pending'`,
          [id],
        )
      )[0].n as number;

    it("the merchant's first message sets firstResponseAt and moves the ticket to in_negotiation", async () => {
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      const t0 = Date.now();
      const msg = await t.http
        .post(`/v1/complaints/${ticket.id}/messages`)
        .set(shop.staff)
        .send({ body: 'We will replace it.' });
      expect(msg.status).toBe(201);
      expect(msg.body).toMatchObject({ seq: 2 });
      const after = (
        await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer).expect(200)
      ).body;
      expect(after.status).toBe('in_negotiation');
      expect(Date.parse(after.firstResponseAt)).toBeGreaterThanOrEqual(t0 - 5);
      expect(Date.parse(after.firstResponseAt)).toBeLessThanOrEqual(Date.now() + 5);
      // A second message does not move the first response.
      await t.http
        .post(`/v1/complaints/${ticket.id}/messages`)
        .set(shop.staff)
        .send({ body: 'Any news?' })
        .expect(201);
      const later = (
        await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer).expect(200)
      ).body;
      expect(later.firstResponseAt).toBe(after.firstResponseAt);
      expect(later.status).toBe('in_negotiation');
    });

    it('an offer is a first response too', async () => {
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      const offer = await t.http
        .post(`/v1/complaints/${ticket.id}/offers`)
        .set(shop.staff)
        .send({ type: 'exchange', note: 'a new one' });
      expect(offer.status).toBe(201);
      expect(offer.body).toMatchObject({ type: 'exchange', amountMinor: null, status: 'pending' });
      const after = (
        await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer).expect(200)
      ).body;
      expect(after).toMatchObject({ status: 'in_negotiation', pendingOfferId: offer.body.id });
      expect(after.firstResponseAt).not.toBeNull();
    });

    it("a consumer's message is not a response: the ticket stays awaiting_merchant", async () => {
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      await t.http
        .post(`/v1/complaints/${ticket.id}/messages`)
        .set(ticket.consumer)
        .send({ body: 'Hello? Anyone?' })
        .expect(201);
      const after = (
        await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer).expect(200)
      ).body;
      expect(after).toMatchObject({ status: 'awaiting_merchant', firstResponseAt: null });
      // …so escalation is still too early.
      const esc = await t.http
        .post(`/v1/complaints/${ticket.id}/escalate`)
        .set(ticket.consumer)
        .send({ reason: 'x' });
      expect(esc.status).toBe(409);
      expect(esc.body.code).toBe('ESCALATION_TOO_EARLY');
    });

    it('one pending offer at a time: a new offer supersedes; the superseded one cannot be accepted', async () => {
      const ticket = await ticketIn(t, shop, 'pending_offer');
      const first = ticket.offerId!;
      const second = await t.http
        .post(`/v1/complaints/${ticket.id}/offers`)
        .set(shop.staff)
        .send({ type: 'refund', amountMinor: 12800 });
      expect(second.status).toBe(201);
      expect(second.body).toMatchObject({ type: 'refund', amountMinor: 12800, status: 'pending' });
      const list = await offers(ticket.id, ticket.consumer);
      expect(list.map((o) => [o.id, o.status])).toEqual([
        [first, 'superseded'],
        [second.body.id, 'pending'],
      ]);
      expect(await pendingRows(ticket.id)).toBe(1);
      const view = (
        await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer).expect(200)
      ).body;
      expect(view.pendingOfferId).toBe(second.body.id);

      const stale = await t.http
        .post(`/v1/complaints/${ticket.id}/offers/${first}/accept`)
        .set(ticket.consumer);
      expect(stale.status).toBe(409);
      expect(stale.body.code).toBe('INVALID_TRANSITION');
      const accepted = await t.http
        .post(`/v1/complaints/${ticket.id}/offers/${second.body.id}/accept`)
        .set(ticket.consumer);
      expect(accepted.status).toBe(200);
      // Accepting leads to settling: the offer now has to be carried out (issue 13).
      expect(accepted.body).toMatchObject({ status: 'settling', pendingOfferId: null });
      expect(accepted.body.closedAt).toBeNull();
      const final = await offers(ticket.id, shop.staff);
      expect(final.map((o) => o.status)).toEqual(['superseded', 'accepted']);
      expect(await pendingRows(ticket.id)).toBe(0);
    });

    it('reject keeps the ticket in negotiation with no pending offer', async () => {
      const ticket = await ticketIn(t, shop, 'pending_offer');
      const res = await t.http
        .post(`/v1/complaints/${ticket.id}/offers/${ticket.offerId}/reject`)
        .set(ticket.consumer)
        .send({ reason: 'Half is not enough.' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'in_negotiation', pendingOfferId: null });
      const [o] = await offers(ticket.id, ticket.consumer);
      expect(o).toMatchObject({ status: 'rejected', rejectReason: 'Half is not enough.' });
      expect(await pendingRows(ticket.id)).toBe(0);
      // A rejected offer cannot be accepted afterwards.
      const late = await t.http
        .post(`/v1/complaints/${ticket.id}/offers/${ticket.offerId}/accept`)
        .set(ticket.consumer);
      expect(late.status).toBe(409);
      expect(late.body.code).toBe('INVALID_TRANSITION');
    });

    it('reject and withdraw work without a body', async () => {
      const ticket = await ticketIn(t, shop, 'pending_offer');
      const rej = await t.http
        .post(`/v1/complaints/${ticket.id}/offers/${ticket.offerId}/reject`)
        .set(ticket.consumer);
      expect(rej.status).toBe(200);
      const wd = await t.http.post(`/v1/complaints/${ticket.id}/withdraw`).set(ticket.consumer);
      expect(wd.status).toBe(200);
      expect(wd.body.status).toBe('withdrawn');
    });

    it('withdraw → withdrawn, and a pending offer lapses', async () => {
      const waiting = await ticketIn(t, shop, 'awaiting_merchant');
      const a = await t.http
        .post(`/v1/complaints/${waiting.id}/withdraw`)
        .set(waiting.consumer)
        .send({ reason: 'Sorted it out in the shop.' });
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ status: 'withdrawn' });
      expect(a.body.closedAt).not.toBeNull();

      const negotiating = await ticketIn(t, shop, 'pending_offer');
      const b = await t.http
        .post(`/v1/complaints/${negotiating.id}/withdraw`)
        .set(negotiating.consumer)
        .send({});
      expect(b.status).toBe(200);
      expect(b.body).toMatchObject({ status: 'withdrawn', pendingOfferId: null });
      const [o] = await offers(negotiating.id, negotiating.consumer);
      expect(o.status).toBe('lapsed');
    });

    describe('a terminal ticket refuses every action with 409 INVALID_TRANSITION', () => {
      const actions: [string, (tk: { id: string; consumer: H; offerId: string | null }) => any][] =
        [
          [
            'consumer message',
            (tk) =>
              t.http.post(`/v1/complaints/${tk.id}/messages`).set(tk.consumer).send({ body: 'hi' }),
          ],
          [
            'merchant message',
            (tk) =>
              t.http.post(`/v1/complaints/${tk.id}/messages`).set(shop.staff).send({ body: 'hi' }),
          ],
          [
            'admin message',
            (tk) =>
              t.http.post(`/v1/complaints/${tk.id}/messages`).set(admin()).send({ body: 'hi' }),
          ],
          [
            'new offer',
            (tk) =>
              t.http
                .post(`/v1/complaints/${tk.id}/offers`)
                .set(shop.staff)
                .send({ type: 'apology' }),
          ],
          [
            'accept offer',
            (tk) =>
              t.http.post(`/v1/complaints/${tk.id}/offers/${tk.offerId}/accept`).set(tk.consumer),
          ],
          [
            'reject offer',
            (tk) =>
              t.http
                .post(`/v1/complaints/${tk.id}/offers/${tk.offerId}/reject`)
                .set(tk.consumer)
                .send({}),
          ],
          [
            'withdraw',
            (tk) => t.http.post(`/v1/complaints/${tk.id}/withdraw`).set(tk.consumer).send({}),
          ],
          [
            'escalate',
            (tk) =>
              t.http
                .post(`/v1/complaints/${tk.id}/escalate`)
                .set(tk.consumer)
                .send({ reason: 'x' }),
          ],
          [
            'regulator accept (admin)',
            (tk) => t.http.post(`/v1/complaints/${tk.id}/accept`).set(admin()),
          ],
          [
            'decline (admin)',
            (tk) =>
              t.http.post(`/v1/complaints/${tk.id}/decline`).set(admin()).send({ reason: 'other' }),
          ],
          [
            'mediation (admin)',
            (tk) =>
              t.http
                .post(`/v1/complaints/${tk.id}/mediation`)
                .set(admin())
                .send({ outcome: 'agreement', settlement: 'Repair within a week.' }),
          ],
        ];
      const terminal: Record<
        string,
        { id: string; consumer: H; offerId: string | null; events: number }
      > = {};

      beforeAll(async () => {
        const resolved = await ticketIn(t, shop, 'resolved');
        const withdrawn = await ticketIn(t, shop, 'pending_offer');
        await t.http
          .post(`/v1/complaints/${withdrawn.id}/withdraw`)
          .set(withdrawn.consumer)
          .send({})
          .expect(200);
        for (const [name, tk] of Object.entries({ resolved, withdrawn })) {
          const [{ n }] = await t.db.query(
            'SELECT event_count AS n FROM complaints WHERE id = $1',
            [tk.id],
          );
          terminal[name] = { ...tk, events: n };
        }
      });

      const cells = ['resolved', 'withdrawn'].flatMap((state) =>
        actions.map(([name, act]) => [state, name, act] as const),
      );
      it.each(cells)('%s: %s', async (state, _name, act) => {
        const tk = terminal[state];
        const res = await act(tk);
        expect(res.status).toBe(409);
        // The problem's own `status` member is the HTTP status, not the ticket's.
        expect(res.body).toMatchObject({ status: 409, code: 'INVALID_TRANSITION' });
        const view = (await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer).expect(200))
          .body;
        expect(view.status).toBe(state);
        const [{ n }] = await t.db.query('SELECT event_count AS n FROM complaints WHERE id = $1', [
          tk.id,
        ]);
        expect(n).toBe(tk.events);
      });
    });

    describe('escalation by the consumer', () => {
      it('409 ESCALATION_TOO_EARLY (with availableAt) before merchantRespondBy with no response', async () => {
        const ticket = await ticketIn(t, shop, 'awaiting_merchant');
        const res = await t.http
          .post(`/v1/complaints/${ticket.id}/escalate`)
          .set(ticket.consumer)
          .send({ reason: 'They will not answer.' });
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('ESCALATION_TOO_EARLY');
        expect(res.body.availableAt).toBe(ticket.body.merchantRespondBy);
        const view = (
          await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer).expect(200)
        ).body;
        expect(view).toMatchObject({ status: 'awaiting_merchant', escalatedAt: null });
      });

      it('after a merchant response the consumer may escalate at once (consumer_request)', async () => {
        const ticket = await ticketIn(t, shop, 'in_negotiation');
        const t0 = Date.now();
        const res = await t.http
          .post(`/v1/complaints/${ticket.id}/escalate`)
          .set(ticket.consumer)
          .send({ reason: 'The answer was rude.' });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          status: 'escalated',
          escalationReason: 'consumer_request',
          officeId: office.id,
        });
        expect(Date.parse(res.body.escalatedAt)).toBeGreaterThanOrEqual(t0 - 5);
        expect(res.body.acceptBy).toMatch(ISO_WITH_OFFSET);
      });

      it('escalating lapses a pending offer', async () => {
        const ticket = await ticketIn(t, shop, 'pending_offer');
        const res = await t.http
          .post(`/v1/complaints/${ticket.id}/escalate`)
          .set(ticket.consumer)
          .send({ reason: 'Not enough.' });
        expect(res.status).toBe(200);
        expect(res.body.pendingOfferId).toBeNull();
        const [o] = (
          await t.http.get(`/v1/complaints/${ticket.id}/offers`).set(ticket.consumer).expect(200)
        ).body.items;
        expect(o.status).toBe('lapsed');
        const late = await t.http
          .post(`/v1/complaints/${ticket.id}/offers/${ticket.offerId}/accept`)
          .set(ticket.consumer);
        expect(late.status).toBe(409);
        expect(late.body.code).toBe('INVALID_TRANSITION');
      });

      it('400 without a reason', async () => {
        const ticket = await ticketIn(t, shop, 'in_negotiation');
        const res = await t.http
          .post(`/v1/complaints/${ticket.id}/escalate`)
          .set(ticket.consumer)
          .send({});
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      });

      it('escalation is allowed from merchantRespondBy on (inclusive) without a response, on a fake clock', async () => {
        // The app's clock is moved to the deadline instead of the test sleeping through a short
        // SLA; no worker runs on this clock, so none can escalate the ticket first.
        const clock = new FakeClock();
        const fast = await boot({}, clock);
        try {
          const fastShop = await createShop(fast, REGION);
          const ticket = await ticketIn(fast, fastShop, 'awaiting_merchant');
          const due = Date.parse(ticket.body.merchantRespondBy);
          expect(due - Date.parse(ticket.body.createdAt)).toBe(2 * 3600_000);
          const escalate = () =>
            fast.http
              .post(`/v1/complaints/${ticket.id}/escalate`)
              .set(ticket.consumer)
              .send({ reason: 'No answer in time.' });
          clock.set(due - 1);
          const early = await escalate();
          expect([early.status, early.body.code]).toEqual([409, 'ESCALATION_TOO_EARLY']);
          clock.set(due);
          const res = await escalate();
          expect(res.status).toBe(200);
          expect(res.body).toMatchObject({
            status: 'escalated',
            escalationReason: 'consumer_request',
            firstResponseAt: null,
            escalatedAt: new Date(due).toISOString(),
          });
        } finally {
          await fast.close();
        }
      });
    });
  });

  // -------------------------------------------------------------------------------- routing & regulator

  describe('routing and the regulator phase', () => {
    let province: { id: string };
    let city: { id: string };
    let district: { id: string };
    const officerOf = (o: { id: string }) =>
      bearer(t.token({ role: 'regulator', sub: `officer-${o.id.slice(0, 6)}`, officeId: o.id }));

    beforeAll(async () => {
      province = await createOffice(t, ['62'], '甘肃省市场监督管理局');
      city = await createOffice(t, ['6201'], '兰州市市场监督管理局');
      district = await createOffice(t, ['620102'], '兰州市城关区市场监督管理局');
    });

    const escalatedIn = async (regionCode: string) => {
      const s = await createShop(t, regionCode);
      return { shop: s, ticket: await ticketIn(t, s, 'escalated') };
    };

    it('the longest matching prefix wins', async () => {
      const inDistrict = await escalatedIn('620102');
      expect(inDistrict.ticket.body.officeId).toBe(district.id);
      const inCity = await escalatedIn('620103');
      expect(inCity.ticket.body.officeId).toBe(city.id);
      const inProvince = await escalatedIn('620502');
      expect(inProvince.ticket.body.officeId).toBe(province.id);
      // Each office sees its own, and only its own.
      const d = await walk(t, '/v1/complaints', officerOf(district), 100);
      expect(d.map((x) => x.id)).toContain(inDistrict.ticket.id);
      expect(d.map((x) => x.id)).not.toContain(inCity.ticket.id);
      await t.http.get(`/v1/complaints/${inCity.ticket.id}`).set(officerOf(district)).expect(404);
      await t.http.get(`/v1/complaints/${inCity.ticket.id}`).set(officerOf(city)).expect(200);
    });

    it('acceptBy is the end (Asia/Shanghai) of the 7th working day after escalation', async () => {
      const { ticket } = await escalatedIn('620102');
      const escalatedAt = new Date(ticket.body.escalatedAt);
      const acceptBy = new Date(ticket.body.acceptBy);
      expect(acceptBy.toISOString()).toBe(computeAcceptBy(escalatedAt, 7).toISOString());
      expect(acceptBy.getTime() - escalatedAt.getTime()).toBeGreaterThanOrEqual(7 * DAY);
      expect(ticket.body.acceptBy).toMatch(/T15:59:59\.999Z$/);
      expect(ticket.body.acceptanceOverdue).toBe(false);
    });

    it('no office covers the region: officeId null, only admins see it (unassigned=true), then a transfer assigns it', async () => {
      const { ticket } = await escalatedIn('540102');
      expect(ticket.body).toMatchObject({ status: 'escalated', officeId: null });
      expect(ticket.body.acceptBy).toMatch(/T15:59:59\.999Z$/);

      const queue = await walk(t, '/v1/complaints?unassigned=true', admin(), 100);
      expect(queue.map((x) => x.id)).toContain(ticket.id);
      expect(queue.every((x) => x.status === 'escalated' && x.officeId === null)).toBe(true);
      for (const o of [province, city, district, office]) {
        const mine = await walk(t, '/v1/complaints', officerOf(o), 100);
        expect(mine.map((x) => x.id)).not.toContain(ticket.id);
        await t.http.get(`/v1/complaints/${ticket.id}`).set(officerOf(o)).expect(404);
      }
      const forbidden = await t.http.get('/v1/complaints?unassigned=true').set(officerOf(city));
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.code).toBe('FORBIDDEN');

      const moved = await t.http
        .post(`/v1/complaints/${ticket.id}/transfer`)
        .set(admin())
        .send({ officeId: city.id });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ status: 'escalated', officeId: city.id });
      expect(moved.body.acceptBy).toMatch(/T15:59:59\.999Z$/);
      const seen = await t.http.get(`/v1/complaints/${ticket.id}`).set(officerOf(city)).expect(200);
      expect(seen.body.officeId).toBe(city.id);
      const cityList = await walk(t, '/v1/complaints', officerOf(city), 100);
      expect(cityList.map((x) => x.id)).toContain(ticket.id);
      const queueAfter = await walk(t, '/v1/complaints?unassigned=true', admin(), 100);
      expect(queueAfter.map((x) => x.id)).not.toContain(ticket.id);
    });

    it('accept → mediating with mediationEndBy; then agreement → mediated', async () => {
      const { ticket } = await escalatedIn('620102');
      const acc = await t.http.post(`/v1/complaints/${ticket.id}/accept`).set(officerOf(district));
      expect(acc.status).toBe(200);
      expect(acc.body.status).toBe('mediating');
      expect(acc.body.mediationEndBy).toBe(
        computeMediationEndBy(new Date(acc.body.acceptedAt), 45).toISOString(),
      );
      expect(acc.body.mediationEndBy).toMatch(/T15:59:59\.999Z$/);
      const again = await t.http
        .post(`/v1/complaints/${ticket.id}/accept`)
        .set(officerOf(district));
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('INVALID_TRANSITION');
      const med = await t.http
        .post(`/v1/complaints/${ticket.id}/mediation`)
        .set(officerOf(district))
        .send({ outcome: 'agreement', settlement: 'Full refund within 3 days.' });
      expect(med.status).toBe(200);
      expect(med.body.status).toBe('mediated');
      expect(med.body.mediationOutcome).toMatchObject({
        outcome: 'agreement',
        settlement: 'Full refund within 3 days.',
      });
      expect(med.body.closedAt).not.toBeNull();
    });

    it('mediation failed → mediation_failed', async () => {
      const { ticket } = await escalatedIn('620102');
      await t.http.post(`/v1/complaints/${ticket.id}/accept`).set(officerOf(district)).expect(200);
      const med = await t.http
        .post(`/v1/complaints/${ticket.id}/mediation`)
        .set(officerOf(district))
        .send({ outcome: 'failed', note: 'The merchant refused.' });
      expect(med.status).toBe(200);
      expect(med.body.status).toBe('mediation_failed');
    });

    it('an agreement without what was agreed → 400 VALIDATION_FAILED and the ticket stays mediating', async () => {
      const { ticket } = await escalatedIn('620102');
      await t.http.post(`/v1/complaints/${ticket.id}/accept`).set(officerOf(district)).expect(200);
      for (const body of [
        { outcome: 'agreement' },
        { outcome: 'agreement', settlement: '' },
        { outcome: 'agreement', settlement: '   ', note: 'Both sides agreed.' },
      ]) {
        const res = await t.http
          .post(`/v1/complaints/${ticket.id}/mediation`)
          .set(officerOf(district))
          .send(body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      const after = await t.http.get(`/v1/complaints/${ticket.id}`).set(officerOf(district));
      expect(after.body.status).toBe('mediating');
      // A failed mediation needs no agreement text.
      const failed = await t.http
        .post(`/v1/complaints/${ticket.id}/mediation`)
        .set(officerOf(district))
        .send({ outcome: 'failed' });
      expect(failed.status).toBe(200);
      expect(failed.body.status).toBe('mediation_failed');
    });

    it('mediation before acceptance → 409 INVALID_TRANSITION; a bad outcome → 400', async () => {
      const { ticket } = await escalatedIn('620102');
      const early = await t.http
        .post(`/v1/complaints/${ticket.id}/mediation`)
        .set(officerOf(district))
        .send({ outcome: 'agreement', settlement: 'Repair within a week.' });
      expect(early.status).toBe(409);
      expect(early.body.code).toBe('INVALID_TRANSITION');
      const bad = await t.http
        .post(`/v1/complaints/${ticket.id}/mediation`)
        .set(officerOf(district))
        .send({ outcome: 'maybe' });
      expect(bad.status).toBe(400);
    });

    it('decline with a reason from the fixed list; another reason → 400 and nothing changes', async () => {
      const { ticket } = await escalatedIn('620102');
      const bad = await t.http
        .post(`/v1/complaints/${ticket.id}/decline`)
        .set(officerOf(district))
        .send({ reason: 'too_busy' });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
      const missing = await t.http
        .post(`/v1/complaints/${ticket.id}/decline`)
        .set(officerOf(district))
        .send({});
      expect(missing.status).toBe(400);
      const still = await t.http
        .get(`/v1/complaints/${ticket.id}`)
        .set(ticket.consumer)
        .expect(200);
      expect(still.body.status).toBe('escalated');
      const ok = await t.http
        .post(`/v1/complaints/${ticket.id}/decline`)
        .set(officerOf(district))
        .send({ reason: 'court_or_arbitration', detail: 'Case 2026-0042 before the Xihu court.' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        status: 'declined',
        declineReason: 'court_or_arbitration',
        declineDetail: 'Case 2026-0042 before the Xihu court.',
      });
    });

    it('transfer to another office: the new office sees it with a fresh acceptBy, the old one no longer', async () => {
      const { ticket } = await escalatedIn('620102');
      const res = await t.http
        .post(`/v1/complaints/${ticket.id}/transfer`)
        .set(officerOf(district))
        .send({ officeId: city.id });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'escalated', officeId: city.id });
      await t.http.get(`/v1/complaints/${ticket.id}`).set(officerOf(district)).expect(404);
      await t.http.get(`/v1/complaints/${ticket.id}`).set(officerOf(city)).expect(200);
      const same = await t.http
        .post(`/v1/complaints/${ticket.id}/transfer`)
        .set(officerOf(city))
        .send({ officeId: city.id });
      expect(same.status).toBe(400);
      const nowhere = await t.http
        .post(`/v1/complaints/${ticket.id}/transfer`)
        .set(officerOf(city))
        .send({ officeId: '00000000-0000-4000-8000-000000000000' });
      expect(nowhere.status).toBe(404);
      const { body: events } = await t.http
        .get(`/v1/complaints/${ticket.id}/events`)
        .set(admin())
        .expect(200);
      expect(events.items.find((e: any) => e.type === 'transferred').data).toMatchObject({
        from: district.id,
        to: city.id,
      });
    });

    it('only officers of the ticket’s office act on it (other office 404, consumer 403)', async () => {
      const { ticket } = await escalatedIn('620102');
      for (const [path, body] of [
        ['accept', undefined],
        ['decline', { reason: 'other' }],
        ['transfer', { officeId: province.id }],
      ] as const) {
        const other = await t.http
          .post(`/v1/complaints/${ticket.id}/${path}`)
          .set(officerOf(city))
          .send(body ?? {});
        expect(other.status).toBe(404);
        expect(other.body.code).toBe('NOT_FOUND');
        const consumer = await t.http
          .post(`/v1/complaints/${ticket.id}/${path}`)
          .set(ticket.consumer)
          .send(body ?? {});
        expect(consumer.status).toBe(403);
        expect(consumer.body.code).toBe('FORBIDDEN');
      }
      await t.http.post(`/v1/complaints/${ticket.id}/accept`).set(officerOf(district)).expect(200);
      const other = await t.http
        .post(`/v1/complaints/${ticket.id}/mediation`)
        .set(officerOf(city))
        .send({ outcome: 'failed' });
      expect(other.status).toBe(404);
      const consumer = await t.http
        .post(`/v1/complaints/${ticket.id}/mediation`)
        .set(ticket.consumer)
        .send({ outcome: 'failed' });
      expect(consumer.status).toBe(403);
      const view = await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer).expect(200);
      expect(view.body.status).toBe('mediating');
    });

    it('a mediating ticket cannot be transferred (409)', async () => {
      const { ticket } = await escalatedIn('620102');
      await t.http.post(`/v1/complaints/${ticket.id}/accept`).set(officerOf(district)).expect(200);
      const res = await t.http
        .post(`/v1/complaints/${ticket.id}/transfer`)
        .set(officerOf(district))
        .send({ officeId: city.id });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('INVALID_TRANSITION');
    });
  });

  // -------------------------------------------------------------------------------- trail

  describe('the event trail', () => {
    const events = async (id: string, who: H = admin()) =>
      (await t.http.get(`/v1/complaints/${id}/events`).set(who).expect(200)).body.items as any[];
    const verify = async (id: string, who: H = admin()) =>
      (await t.http.get(`/v1/complaints/${id}/events/verify`).set(who).expect(200)).body;

    it('records every step as a hash chain (seq 1..n, prevHash links) that verifies; a regulator’s GET is recorded', async () => {
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      const id = ticket.id;
      const post = (path: string, who: H, body: object = {}) =>
        t.http.post(`/v1/complaints/${id}/${path}`).set(who).send(body);
      expect((await post('messages', ticket.consumer, { body: 'Please reply.' })).status).toBe(201);
      expect((await post('messages', shop.staff, { body: 'Replacement on its way.' })).status).toBe(
        201,
      );
      const offer = await post('offers', shop.staff, { type: 'partial_refund', amountMinor: 3000 });
      expect(offer.status).toBe(201);
      expect(
        (await post(`offers/${offer.body.id}/reject`, ticket.consumer, { reason: 'more' })).status,
      ).toBe(200);
      expect(
        (
          await post('escalate', ticket.consumer, {
            reason: 'Still broken.',
            complainant: COMPLAINANT,
          })
        ).status,
      ).toBe(200);

      // Reads by the parties and admins leave no trace; the office's read does.
      const before = (await events(id)).length;
      await t.http.get(`/v1/complaints/${id}`).set(ticket.consumer).expect(200);
      await t.http.get(`/v1/complaints/${id}`).set(shop.staff).expect(200);
      await t.http.get(`/v1/complaints/${id}`).set(admin()).expect(200);
      expect((await events(id)).length).toBe(before);
      await t.http.get(`/v1/complaints/${id}`).set(officer).expect(200);
      const afterView = await events(id);
      expect(afterView.length).toBe(before + 1);
      expect(afterView.at(-1)).toMatchObject({
        type: 'regulator_viewed',
        actor: { role: 'regulator', id: 'officer-650102' },
      });

      expect((await post('accept', officer)).status).toBe(200);
      expect(
        (await post('messages', officer, { body: 'Both parties, please come on Monday.' })).status,
      ).toBe(201);
      expect(
        (await post('mediation', officer, { outcome: 'agreement', settlement: 'refund' })).status,
      ).toBe(200);

      const items = await events(id, ticket.consumer);
      expect(items.map((e) => e.type)).toEqual([
        'created',
        'message',
        'message',
        'offer_made',
        'offer_rejected',
        'escalated',
        'complainant_provided',
        'regulator_viewed',
        'accepted',
        'message',
        'mediated',
      ]);
      expect(items.map((e) => e.seq)).toEqual(items.map((_e, i) => i + 1));
      expect(items[0].prevHash).toBe('0'.repeat(64));
      for (let i = 1; i < items.length; i++) expect(items[i].prevHash).toBe(items[i - 1].hash);
      for (const e of items) {
        expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(e.at).toMatch(ISO_WITH_OFFSET);
      }
      expect(new Set(items.map((e) => e.hash)).size).toBe(items.length);
      expect(items.map((e) => e.actor.role)).toEqual([
        'consumer',
        'consumer',
        'merchant',
        'merchant',
        'consumer',
        'consumer',
        'consumer',
        'regulator',
        'regulator',
        'regulator',
        'regulator',
      ]);
      expect(items[0].actor.id).toBe(ticket.consumerSub);
      expect(items[1].data).toMatchObject({ body: 'Please reply.' });
      expect(items[2].data).toMatchObject({
        body: 'Replacement on its way.',
        from: 'awaiting_merchant',
        to: 'in_negotiation',
      });
      expect(items[3].data).toMatchObject({
        offerId: offer.body.id,
        type: 'partial_refund',
        amountMinor: 3000,
      });
      expect(items[5].data).toMatchObject({
        from: 'in_negotiation',
        to: 'escalated',
        officeId: office.id,
      });
      expect(items[10].data).toMatchObject({ from: 'mediating', to: 'mediated' });
      expect(await verify(id, ticket.consumer)).toEqual({ valid: true, length: items.length });
      expect(await verify(id, shop.staff)).toEqual({ valid: true, length: items.length });
    });

    it('offer_made / offer_accepted / settled, and verify finds an edited event', async () => {
      const ticket = await ticketIn(t, shop, 'resolved');
      const items = await events(ticket.id);
      expect(items.map((e) => e.type)).toEqual([
        'created',
        'message',
        'offer_made',
        'offer_accepted',
        'settled',
      ]);
      expect(items[3].data).toMatchObject({
        offerId: ticket.offerId,
        from: 'in_negotiation',
        to: 'settling',
      });
      expect(items[4].data).toMatchObject({
        from: 'settling',
        to: 'resolved',
        settledVia: 'consumer',
      });
      expect(await verify(ticket.id)).toEqual({ valid: true, length: 5 });

      // The database refuses it (append-only trigger); an insider bypassing it is caught here.
      await asInsider(
        t.db,
        `UPDATE complaint_events SET data = jsonb_set(data, '{body}', '"edited"') WHERE complaint_id = $1 AND seq = 2`,
        [ticket.id],
      );
      const v = await verify(ticket.id);
      expect(v).toMatchObject({ valid: false, length: 5 });
      expect(v.firstInvalidSeq).toBe(2);
    });

    it('verify finds a deleted last event', async () => {
      const ticket = await ticketIn(t, shop, 'pending_offer');
      const n = (await events(ticket.id)).length;
      expect(await verify(ticket.id)).toEqual({ valid: true, length: n });
      await asInsider(t.db, 'DELETE FROM complaint_events WHERE complaint_id = $1 AND seq = $2', [
        ticket.id,
        n,
      ]);
      const v = await verify(ticket.id);
      expect(v).toMatchObject({ valid: false, length: n - 1 });
    });

    it('events and verify are 404 for someone who may not see the ticket', async () => {
      const ticket = await ticketIn(t, shop, 'awaiting_merchant');
      const stranger = bearer(t.token({ role: 'consumer', sub: 'sunmi-pos:stranger' }));
      await t.http.get(`/v1/complaints/${ticket.id}/events`).set(stranger).expect(404);
      await t.http.get(`/v1/complaints/${ticket.id}/events/verify`).set(stranger).expect(404);
      await t.http.get(`/v1/complaints/${ticket.id}/events`).set(officer).expect(404);
    });
  });

  // -------------------------------------------------------------------------------- lists

  describe('lists', () => {
    it('a consumer sees exactly their own tickets, newest first', async () => {
      const payer = `c${randomBytes(5).toString('hex')}`;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await createReceipt(t, { accountId: shop.accountId, payer });
        const res = await t.http
          .post('/v1/complaints')
          .set(consumerOf(r))
          .send(complaintBody(r.id))
          .expect(201);
        ids.push(res.body.id);
      }
      const someoneElse = await ticketIn(t, shop, 'awaiting_merchant');
      const me = bearer(t.token({ role: 'consumer', sub: `sunmi-pos:${payer}` }));
      const mine = await walk(t, '/v1/complaints', me, 100);
      expect(mine.map((x) => x.id)).toEqual([...ids].reverse());
      const theirs = await walk(t, '/v1/complaints', someoneElse.consumer, 100);
      expect(theirs.map((x) => x.id)).toEqual([someoneElse.id]);
      await t.http.get(`/v1/complaints/${someoneElse.id}`).set(me).expect(404);
    });

    it('the merchant inbox: open merchant-phase tickets by merchantRespondBy ascending; status= filters', async () => {
      const own = await createShop(t, REGION);
      const other = await createShop(t, REGION);
      const waiting = await ticketIn(t, own, 'awaiting_merchant');
      const talking = await ticketIn(t, own, 'pending_offer');
      const resolved = await ticketIn(t, own, 'resolved');
      const withdrawn = await ticketIn(t, own, 'withdrawn');
      const escalated = await ticketIn(t, own, 'escalated');
      const notMine = await ticketIn(t, other, 'awaiting_merchant');
      // Filed last but due first: an app whose merchants have 30 minutes instead of 2 hours.
      const urgentApp = await boot({ MERCHANT_RESPONSE_SLA: '30m' });
      let urgent: Awaited<ReturnType<typeof ticketIn>>;
      try {
        urgent = await ticketIn(urgentApp, own, 'awaiting_merchant');
      } finally {
        await urgentApp.close();
      }

      const inbox = await walk(t, '/v1/complaints', own.staff, 100);
      expect(inbox.map((x) => x.id)).toEqual([urgent.id, waiting.id, talking.id]);
      const due = inbox.map((x) => Date.parse(x.merchantRespondBy));
      expect(due).toEqual([...due].sort((a, b) => a - b));
      expect(inbox.every((x) => x.merchantId === own.merchant.id)).toBe(true);
      const paged = await walk(t, '/v1/complaints', own.staff, 2);
      expect(paged.map((x) => x.id)).toEqual(inbox.map((x) => x.id));

      const byStatus = async (status: string) =>
        (await walk(t, `/v1/complaints?status=${status}`, own.staff, 100)).map((x) => x.id);
      expect(await byStatus('resolved')).toEqual([resolved.id]);
      expect(await byStatus('withdrawn')).toEqual([withdrawn.id]);
      expect(await byStatus('escalated')).toEqual([escalated.id]);
      expect(await byStatus('in_negotiation')).toEqual([talking.id]);
      expect(await byStatus('awaiting_merchant')).toEqual([urgent.id, waiting.id]);
      const stranger = await walk(t, '/v1/complaints', other.staff, 100);
      expect(stranger.map((x) => x.id)).toEqual([notMine.id]);
      const bad = await t.http.get('/v1/complaints?status=lost').set(own.staff);
      expect(bad.status).toBe(400);
    });

    it('a consumer can filter by status too', async () => {
      const payer = `c${randomBytes(5).toString('hex')}`;
      const r1 = await createReceipt(t, { accountId: shop.accountId, payer });
      const r2 = await createReceipt(t, { accountId: shop.accountId, payer });
      const me = consumerOf(r1);
      const a = await t.http.post('/v1/complaints').set(me).send(complaintBody(r1.id)).expect(201);
      const b = await t.http.post('/v1/complaints').set(me).send(complaintBody(r2.id)).expect(201);
      await t.http.post(`/v1/complaints/${b.body.id}/withdraw`).set(me).send({}).expect(200);
      expect((await walk(t, '/v1/complaints?status=withdrawn', me, 100)).map((x) => x.id)).toEqual([
        b.body.id,
      ]);
      expect(
        (await walk(t, '/v1/complaints?status=awaiting_merchant', me, 100)).map((x) => x.id),
      ).toEqual([a.body.id]);
    });

    it("a regulator sees its office's tickets only", async () => {
      const escalated = await ticketIn(t, shop, 'escalated');
      const elsewhere = await createOffice(t, ['650103']);
      const elsewhereShop = await createShop(t, '650103');
      const theirs = await ticketIn(t, elsewhereShop, 'escalated');
      expect(theirs.body.officeId).toBe(elsewhere.id);
      const list = await walk(t, '/v1/complaints', officer, 100);
      expect(list.map((x) => x.id)).toContain(escalated.id);
      expect(list.map((x) => x.id)).not.toContain(theirs.id);
      expect(list.every((x) => x.officeId === office.id)).toBe(true);
      const escalatedAt = list.map((x) => Date.parse(x.escalatedAt));
      expect(escalatedAt).toEqual([...escalatedAt].sort((a, b) => a - b));
    });

    it('cursor pagination (limit=2) walks every ticket once, even when one is filed between pages', async () => {
      const payer = `c${randomBytes(5).toString('hex')}`;
      const file = async () => {
        const r = await createReceipt(t, { accountId: shop.accountId, payer });
        return (
          await t.http
            .post('/v1/complaints')
            .set(consumerOf(r))
            .send(complaintBody(r.id))
            .expect(201)
        ).body.id as string;
      };
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await file());
      const me = bearer(t.token({ role: 'consumer', sub: `sunmi-pos:${payer}` }));

      const seen: string[] = [];
      let cursor: string | null = null;
      let page = 0;
      do {
        const res: any = await t.http
          .get(`/v1/complaints?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(me)
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((x: any) => x.id));
        cursor = res.body.nextCursor;
        if (++page === 1) ids.push(await file()); // a new ticket between page 1 and page 2
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(ids.slice(0, 5).reverse());
      // The merchant inbox (ascending) with an insert between pages: again no repeats, no gaps.
      const own = await createShop(t, REGION);
      const inbox: string[] = [];
      for (let i = 0; i < 4; i++) inbox.push((await ticketIn(t, own, 'awaiting_merchant')).id);
      const walked: string[] = [];
      cursor = null;
      page = 0;
      do {
        const res: any = await t.http
          .get(`/v1/complaints?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(own.staff)
          .expect(200);
        walked.push(...res.body.items.map((x: any) => x.id));
        cursor = res.body.nextCursor;
        if (++page === 1) inbox.push((await ticketIn(t, own, 'awaiting_merchant')).id);
      } while (cursor);
      expect(new Set(walked).size).toBe(walked.length);
      expect(walked).toEqual(inbox); // the late one is due last, so it shows up on the last page
    });

    it('400 for a limit out of range or a cursor this API did not issue', async () => {
      const me = bearer(t.token({ role: 'consumer', sub: 'sunmi-pos:nobody' }));
      for (const q of ['limit=0', 'limit=101', 'limit=x', 'cursor=garbage']) {
        const res = await t.http.get(`/v1/complaints?${q}`).set(me);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      // Well-formed base64 JSON with the right arity, but not a (time, id) key.
      const forged = Buffer.from(JSON.stringify(['yesterday', 'me'])).toString('base64url');
      const res = await t.http.get(`/v1/complaints?cursor=${forged}`).set(me);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });
  });
});
