/*
 * Settlement (API.md Complaints → accept, Settlement; DESIGN.md "settling"): accepting an offer
 * leads to settling; refunds, the consumer's confirmation or dispute, and the worker's deadlines
 * decide the outcome, exactly once under real concurrency. Offers expire, with a reminder
 * halfway. The API and an in-process worker share a FakeClock: a deadline test sets it a second
 * before the deadline (nothing happens), then at it (the change), and runs the worker's sweep or
 * the ticket's delayed job once each time — never sleeping.
 */
import { randomBytes } from 'node:crypto';
import { SettlementService } from '../libs/complaints/src/settlement/settlement.service';
import { RefundsService } from '../libs/receipts/src/refunds/refunds.service';
import { LEGACY_SETTLED_SQL } from '../migrations/1764700500000-Settlement';
import { startTestApp, TestApp } from './helpers/test-app';
import { FakeClock } from './helpers/fake-clock';
import { startTestWorker, TestWorker } from './helpers/test-worker';
import { createShop, Shop, Ticket, ticketIn } from './factories/complaint.factory';
import { genericRefund, postRefund } from './factories/refunds.factory';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('settlement', () => {
  let t: TestApp;
  let shop: Shop;
  let settlement: SettlementService;
  let refunds: RefundsService;
  let worker: TestWorker;
  const clock = new FakeClock();
  const at = (iso: string) => Date.parse(iso);

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000' }, { clock });
    worker = await startTestWorker(clock);
    shop = await createShop(t, '330106');
    settlement = t.app.get(SettlementService, { strict: false });
    refunds = t.app.get(RefundsService, { strict: false });
  });
  // Each test starts now, the clock standing still until the test moves it.
  beforeEach(() => clock.set(Date.now()));
  afterAll(async () => {
    await worker?.close();
    await t?.close();
  });

  const get = (tk: Ticket) => t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer);
  const eventsOf = async (tk: Ticket) =>
    (await t.http.get(`/v1/complaints/${tk.id}/events`).set(tk.consumer).expect(200)).body
      .items as { type: string; data: Record<string, unknown>; actor: { role: string } }[];
  const typesOf = async (tk: Ticket) => (await eventsOf(tk)).map((e) => e.type);
  const offer = async (tk: Ticket, body: Record<string, unknown>) =>
    (await t.http.post(`/v1/complaints/${tk.id}/offers`).set(shop.staff).send(body).expect(201))
      .body as { id: string; expiresAt: string };
  const accept = (tk: Ticket, offerId: string) =>
    t.http.post(`/v1/complaints/${tk.id}/offers/${offerId}/accept`).set(tk.consumer);
  const refund = (tk: Ticket, amountMinor: number) =>
    postRefund(t, genericRefund(tk.body.order.tradeNo, { amountMinor }));
  const confirm = (tk: Ticket) =>
    t.http.post(`/v1/complaints/${tk.id}/settlement/confirm`).set(tk.consumer).send({});
  const settling = async () => {
    const tk = await ticketIn(t, shop, 'pending_offer'); // partial_refund of 5000 offered
    const res = await accept(tk, tk.offerId!).expect(200);
    tk.body = res.body;
    return tk;
  };
  const verifyTrail = async (tk: Ticket) =>
    (await t.http.get(`/v1/complaints/${tk.id}/events/verify`).set(tk.consumer).expect(200)).body;
  /** The worker's delayed jobs for these tickets that are due by the clock, run once. */
  const runJobsOf = async (...tickets: Ticket[]) => {
    const ids = new Set(tickets.map((tk) => tk.id));
    return (await worker.runDueJobs())
      .filter((j) => ids.has((j.data as { complaintId: string }).complaintId))
      .map((j) => ({ ...(j.data as { complaintId: string; kind: string }), result: j.result }));
  };

  it('accept → settling with the settlement; refunds reaching the amount settle it (settledVia refund)', async () => {
    const tk = await ticketIn(t, shop, 'pending_offer');
    const res = await accept(tk, tk.offerId!).expect(200);
    expect(res.body.status).toBe('settling');
    expect(res.body.closedAt).toBeNull();
    expect(res.body.settlement).toMatchObject({
      offerId: tk.offerId,
      type: 'partial_refund',
      amountMinor: 5000,
      refundedMinor: 0,
      settledAt: null,
      settledVia: null,
    });
    expect(at(res.body.settlement.settleBy)).toBe(clock.now().getTime() + 72 * HOUR);

    await refund(tk, 2000).expect(201);
    const partial = (await get(tk).expect(200)).body;
    expect(partial.status).toBe('settling');
    expect(partial.settlement.refundedMinor).toBe(2000);

    await refund(tk, 3000).expect(201);
    const done = (await get(tk).expect(200)).body;
    expect(done).toMatchObject({ status: 'resolved', settledVia: 'refund' });
    expect(done.settlement).toMatchObject({ refundedMinor: 5000, settledVia: 'refund' });
    expect(done.settlement.settledAt).not.toBeNull();
    const events = await eventsOf(tk);
    expect(events.filter((e) => e.type === 'refund_received')).toHaveLength(2);
    const settled = events.filter((e) => e.type === 'settled');
    expect(settled).toHaveLength(1);
    expect(settled[0].data).toMatchObject({
      from: 'settling',
      to: 'resolved',
      settledVia: 'refund',
    });
    expect((await verifyTrail(tk)).valid).toBe(true);
    // A later refund on the closed ticket is not on its trail.
    await refund(tk, 100).expect(201);
    expect((await typesOf(tk)).filter((x) => x === 'refund_received')).toHaveLength(2);
  });

  it('a refund on a ticket awaiting the merchant is its response (→ in_negotiation), and one covering the offer resolves the acceptance at once', async () => {
    const tk = await ticketIn(t, shop, 'awaiting_merchant');
    await refund(tk, 5000).expect(201);
    const answered = (await get(tk).expect(200)).body;
    expect(answered.status).toBe('in_negotiation');
    expect(answered.firstResponseAt).not.toBeNull();
    const [received] = (await eventsOf(tk)).filter((e) => e.type === 'refund_received');
    expect(received.data).toMatchObject({
      from: 'awaiting_merchant',
      to: 'in_negotiation',
      amountMinor: 5000,
    });
    expect(received.actor.role).toBe('system');

    const o = await offer(tk, { type: 'partial_refund', amountMinor: 5000 });
    const res = await accept(tk, o.id).expect(200);
    expect(res.body).toMatchObject({ status: 'resolved', settledVia: 'refund' });
    expect(res.body.settlement).toMatchObject({ refundedMinor: 5000, settledVia: 'refund' });
  });

  it('a refund recorded before the ticket was opened does not count toward it', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    // Recorded and made a day before the ticket (as if refunded earlier for another reason).
    await t.db.query(
      `INSERT INTO refunds (provider, refund_no, trade_no, amount_minor, currency, refunded_at,
                            fingerprint, raw, raw_content_type, received_at)
       VALUES ('sunmi-pos', $1, $2, 5000, 'CNY', now() - interval '1 day', repeat('0', 64), '{}',
               'application/json', now() - interval '1 day')`,
      [`RF-OLD-${randomBytes(4).toString('hex')}`, tk.body.order.tradeNo],
    );
    const o = await offer(tk, { type: 'partial_refund', amountMinor: 5000 });
    const res = await accept(tk, o.id).expect(200);
    expect(res.body.status).toBe('settling');
    expect(res.body.settlement.refundedMinor).toBe(0);
  });

  it('a settling ticket stays in the merchant’s open inbox (it still has to carry out the offer)', async () => {
    const tk = await settling();
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.http
        .get(`/v1/complaints?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        .set(shop.staff)
        .expect(200);
      ids.push(...res.body.items.map((x: { id: string }) => x.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(ids).toContain(tk.id);
  });

  it('the consumer confirms (settledVia consumer) once; a second confirmation is 409', async () => {
    const tk = await settling();
    const res = await confirm(tk).expect(200);
    expect(res.body).toMatchObject({ status: 'resolved', settledVia: 'consumer' });
    const again = await confirm(tk);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('INVALID_TRANSITION');
    expect((await typesOf(tk)).filter((x) => x === 'settled')).toHaveLength(1);
  });

  it('the consumer disputes → escalated (settlement_not_fulfilled); a dispute needs a reason', async () => {
    const tk = await settling();
    const bad = await t.http
      .post(`/v1/complaints/${tk.id}/settlement/dispute`)
      .set(tk.consumer)
      .send({});
    expect(bad.status).toBe(400);
    const res = await t.http
      .post(`/v1/complaints/${tk.id}/settlement/dispute`)
      .set(tk.consumer)
      .send({ reason: 'The refund never arrived in my account.' })
      .expect(200);
    expect(res.body).toMatchObject({
      status: 'escalated',
      escalationReason: 'settlement_not_fulfilled',
      settledVia: null,
    });
    // The one escalation path: acceptBy under the office's rule set, with its deadline basis.
    expect(res.body.acceptBy).not.toBeNull();
    expect(res.body.ruleSet).toEqual(expect.any(String));
    expect(res.body.deadlineBasis.acceptBy).toMatch(/^(official|estimated)$/);
  });

  it('confirm and dispute are refused outside settling, and for another consumer', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    expect((await confirm(tk)).status).toBe(409);
    const other = await settling();
    const res = await t.http
      .post(`/v1/complaints/${other.id}/settlement/confirm`)
      .set(tk.consumer)
      .send({});
    expect(res.status).toBe(404);
    const extra = await t.http
      .post(`/v1/complaints/${other.id}/settlement/confirm`)
      .set(other.consumer)
      .send({ note: 'x' });
    expect(extra.status).toBe(400);
  });

  it('at settleBy the worker escalates an unpaid money offer and settles a non-money offer with no objection', async () => {
    const unpaid = await settling();
    const apology = await ticketIn(t, shop, 'in_negotiation');
    const o = await offer(apology, { type: 'apology', note: 'We are sorry.' });
    await accept(apology, o.id).expect(200);
    const paid = await settling();
    await t.db.query(
      `INSERT INTO refunds (provider, refund_no, trade_no, amount_minor, currency, refunded_at,
                            fingerprint, raw, raw_content_type)
       VALUES ('sunmi-pos', $1, $2, 5000, 'CNY', now(), repeat('0', 64), '{}', 'application/json')`,
      [`RF-SILENT-${randomBytes(4).toString('hex')}`, paid.body.order.tradeNo],
    );

    const settleBy = at(unpaid.body.settlement.settleBy);
    expect(at(paid.body.settlement.settleBy)).toBe(settleBy); // accepted at the same instant

    // A second before settleBy nothing is due: the sweep settles only the paid one (its refund
    // was recorded without its follow-up, a crash), and the delayed jobs wait.
    clock.set(settleBy - 1000);
    expect(await runJobsOf(unpaid, apology, paid)).toEqual([]);
    await worker.sweep();
    expect((await get(unpaid)).body.status).toBe('settling');
    expect((await get(apology)).body.status).toBe('settling');
    expect((await get(paid)).body).toMatchObject({ status: 'resolved', settledVia: 'refund' });

    // At settleBy: the unpaid money offer escalates when its job fires, the apology is settled
    // with no objection (its job, or the sweep after it); each once.
    clock.set(settleBy);
    const jobs = await runJobsOf(unpaid, apology, paid);
    expect(jobs).toContainEqual(
      expect.objectContaining({ complaintId: unpaid.id, result: { settlement: 'escalated' } }),
    );
    await worker.sweep();
    await worker.sweep();
    expect(await settlement.settleDueIfDue(unpaid.id)).toBe(false);

    const escalated = (await get(unpaid)).body;
    expect(escalated).toMatchObject({
      status: 'escalated',
      escalationReason: 'settlement_not_fulfilled',
      ruleSet: expect.any(String),
    });
    expect(escalated.acceptBy).not.toBeNull();
    expect(escalated.deadlineBasis.acceptBy).toMatch(/^(official|estimated)$/);
    const [row] = await t.db.query('SELECT escalated_at FROM complaints WHERE id = $1', [
      unpaid.id,
    ]);
    expect(row.escalated_at.getTime()).toBe(settleBy);
    expect((await get(apology)).body).toMatchObject({
      status: 'resolved',
      settledVia: 'no_objection',
    });
    for (const tk of [unpaid, apology, paid]) {
      const types = await typesOf(tk);
      expect(types.filter((x) => x === 'settled' || x === 'escalated')).toHaveLength(1);
      expect((await verifyTrail(tk)).valid).toBe(true);
    }
  });

  it('the sweep settles a settling ticket whose refund arrived without the follow-up call, before settleBy', async () => {
    const tk = await settling();
    await refunds.record({
      refund: {
        provider: 'sunmi-pos',
        tradeNo: tk.body.order.tradeNo,
        refundNo: `RF-${randomBytes(4).toString('hex')}`,
        amountMinor: 5000,
        currency: 'CNY',
        refundedAt: new Date(),
      },
      raw: '{}',
      contentType: 'application/json',
    });
    expect((await get(tk)).body.status).toBe('settling');
    const r = await settlement.sweep(1000);
    expect(r.settled).toBeGreaterThanOrEqual(1);
    expect((await get(tk)).body).toMatchObject({ status: 'resolved', settledVia: 'refund' });
  });

  it('offers expire: a reminder halfway (once), then no acceptance and the ticket withdrawn (consumer_no_reply)', async () => {
    const tk = await ticketIn(t, shop, 'in_negotiation');
    const o = await offer(tk, { type: 'partial_refund', amountMinor: 3000 });
    const created = clock.now().getTime();
    const expiresAt = at(o.expiresAt);
    expect(expiresAt).toBe(created + 7 * DAY);
    const remindAt = created + 3.5 * DAY;

    // The reminder: not a second before halfway; at halfway once, however often the sweep runs.
    clock.set(remindAt - 1000);
    await worker.sweep();
    expect(await typesOf(tk)).not.toContain('offer_reminder');
    clock.set(remindAt);
    expect(await runJobsOf(tk)).toEqual([
      expect.objectContaining({ kind: 'offer_reminder', result: { reminded: true } }),
    ]);
    await worker.sweep();
    expect(await settlement.remindOfferIfDue(tk.id)).toBe(false);
    const reminders = (await eventsOf(tk)).filter((e) => e.type === 'offer_reminder');
    expect(reminders).toHaveLength(1);
    expect(reminders[0].data).toMatchObject({ offerId: o.id, expiresAt: o.expiresAt });
    expect((await get(tk)).body.status).toBe('in_negotiation');

    // A second before expiresAt the offer still stands; at it, no acceptance and the sweep
    // withdraws the ticket.
    clock.set(expiresAt - 1000);
    await worker.sweep();
    expect((await get(tk)).body).toMatchObject({ status: 'in_negotiation', pendingOfferId: o.id });
    clock.set(expiresAt);
    const late = await accept(tk, o.id);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('INVALID_TRANSITION');
    await worker.sweep();
    const closed = (await get(tk)).body;
    expect(closed).toMatchObject({
      status: 'withdrawn',
      withdrawReason: 'consumer_no_reply',
      pendingOfferId: null,
    });
    const offers = (await t.http.get(`/v1/complaints/${tk.id}/offers`).set(tk.consumer).expect(200))
      .body;
    const list = Array.isArray(offers) ? offers : offers.items;
    expect(list.find((x: { id: string }) => x.id === o.id).status).toBe('expired');
    expect((await typesOf(tk)).filter((x) => x === 'offer_expired')).toHaveLength(1);
  });

  it('OpenAPI documents the refund route, the settlement routes and the settlement shape', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.paths['/v1/refunds'].post.responses['422']).toBeDefined();
    expect(doc.paths['/v1/complaints/{id}/settlement/confirm'].post).toBeDefined();
    expect(doc.paths['/v1/complaints/{id}/settlement/dispute'].post).toBeDefined();
    expect(doc.components.schemas.TicketResponse.properties.settlement).toBeDefined();
    expect(doc.components.schemas.SettlementDto.properties.settledVia.enum).toEqual([
      'refund',
      'consumer',
      'no_objection',
      'legacy',
    ]);
    expect(doc.components.schemas.ReceiptWithRefundsResponse.properties.refunds).toBeDefined();
  });

  it('a consumer who withdraws is withdrawReason consumer', async () => {
    const tk = await ticketIn(t, shop, 'withdrawn');
    expect(tk.body.withdrawReason).toBe('consumer');
  });

  describe('exactly once under real concurrency', () => {
    it('refund notification, consumer confirmation and worker deadline racing on one ticket: one outcome, one event', async () => {
      const tickets = await Promise.all(Array.from({ length: 6 }, () => settling()));
      // Each ticket's refund is recorded (committed) but its follow-up has not run yet.
      const recorded = await Promise.all(
        tickets.map((tk) =>
          refunds.record({
            refund: {
              provider: 'sunmi-pos',
              tradeNo: tk.body.order.tradeNo,
              refundNo: `RF-${randomBytes(4).toString('hex')}`,
              amountMinor: 5000,
              currency: 'CNY',
              refundedAt: new Date(),
            },
            raw: '{}',
            contentType: 'application/json',
          }),
        ),
      );
      clock.set(at(tickets[0].body.settlement.settleBy) + 60_000); // settleBy has passed as well
      const outcomes = await Promise.all(
        tickets.map((tk, i) => {
          const r = recorded[i];
          if (r.kind !== 'recorded') throw new Error('refund not recorded');
          return Promise.allSettled([
            settlement.onRefundRecorded(r.refund),
            confirm(tk).then((res) => res.status),
            settlement.settleDueIfDue(tk.id),
            settlement.sweep(1000),
            confirm(tk).then((res) => res.status),
          ]);
        }),
      );
      for (const [i, tk] of tickets.entries()) {
        for (const o of outcomes[i]) expect(o.status).toBe('fulfilled');
        const confirms = [outcomes[i][1], outcomes[i][4]].map(
          (o) => (o as PromiseFulfilledResult<number>).value,
        );
        for (const c of confirms) expect([200, 409]).toContain(c);
        const view = (await get(tk)).body;
        expect(view.status).toBe('resolved');
        expect(['refund', 'consumer']).toContain(view.settledVia);
        const types = await typesOf(tk);
        expect(types.filter((x) => x === 'settled')).toHaveLength(1);
        expect(types).not.toContain('escalated');
        expect((await verifyTrail(tk)).valid).toBe(true);
      }
    });

    it('unpaid: consumer dispute, consumer confirmation and worker deadline racing give one outcome', async () => {
      const tickets = await Promise.all(Array.from({ length: 6 }, () => settling()));
      clock.set(at(tickets[0].body.settlement.settleBy) + 60_000);
      await Promise.allSettled(
        tickets.flatMap((tk) => [
          t.http
            .post(`/v1/complaints/${tk.id}/settlement/dispute`)
            .set(tk.consumer)
            .send({ reason: 'Nothing arrived at all.' }),
          confirm(tk),
          settlement.settleDueIfDue(tk.id),
        ]),
      );
      for (const tk of tickets) {
        const view = (await get(tk)).body;
        expect(['resolved', 'escalated']).toContain(view.status);
        const types = await typesOf(tk);
        expect(types.filter((x) => x === 'settled' || x === 'escalated')).toHaveLength(1);
      }
    });
  });
});

describe('settlement migration of existing data', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000' });
  });
  afterAll(() => t.close());

  it('a ticket resolved before verification existed reads settledVia legacy, and verified ones are left alone', async () => {
    const shop = await createShop(t, '330106');
    const old = await ticketIn(t, shop, 'pending_offer');
    const verified = await ticketIn(t, shop, 'resolved'); // confirmed by the consumer
    // As the old code left it: accepted straight to resolved, no settlement columns.
    await t.db.query(
      `UPDATE complaints SET status = 'resolved', pending_offer_id = NULL, closed_at = now()
        WHERE id = $1`,
      [old.id],
    );
    await t.db.query(LEGACY_SETTLED_SQL);
    const view = (await t.http.get(`/v1/complaints/${old.id}`).set(old.consumer).expect(200)).body;
    expect(view).toMatchObject({ status: 'resolved', settledVia: 'legacy', settlement: null });
    const kept = (
      await t.http.get(`/v1/complaints/${verified.id}`).set(verified.consumer).expect(200)
    ).body;
    expect(kept.settledVia).toBe('consumer');
  });
});
