/*
 * The complaints use cases (libs/complaints/src/use-cases) and the change writer, called
 * directly — not through HTTP — on a real database through the Nest application: intake,
 * reading, negotiation, escalation, regulator. Tickets are set up through the API (factories);
 * what is checked is what each use case answers and writes. Region codes of this suite:
 * Golog, Qinghai (6326).
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '@app/shared';
import {
  ChangeWriter,
  ComplaintRow,
  EscalationUseCase,
  IntakeUseCase,
  NegotiationUseCase,
  ReadingUseCase,
  RegulatorUseCase,
  SWEEPER,
  planChange,
  readTrail,
  verifyTrail,
} from '@app/complaints';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createReceipt, Shop, ticketIn } from './factories/complaint.factory';
import { createMerchant, createStore } from './factories/directory.factory';

describe('complaints use cases, called directly', () => {
  let t: TestApp;
  let shop: Shop;
  let office: { id: string };
  let otherOffice: { id: string };
  const merchantOf = (s: Shop): Actor => ({
    role: 'merchant',
    sub: 'staff-uc',
    merchantId: s.merchant.id,
  });
  const officer = (officeId: string): Actor => ({ role: 'regulator', sub: 'officer-uc', officeId });
  const consumerOf = (sub: string): Actor => ({ role: 'consumer', sub });
  const rowOf = async (id: string): Promise<ComplaintRow> =>
    (await t.db.query('SELECT * FROM complaints WHERE id = $1', [id]))[0];
  const countOf = async (table: string, id: string, where = 'TRUE'): Promise<number> =>
    Number(
      (
        await t.db.query(
          `SELECT count(*) AS n FROM ${table} WHERE complaint_id = $1 AND ${where}`,
          [id],
        )
      )[0].n,
    );
  const expectValidTrail = async (id: string) => {
    const row = await rowOf(id);
    expect(verifyTrail(await readTrail(t.db.manager, id), row).valid).toBe(true);
  };

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000', WEBHOOK_ALLOW_PRIVATE: 'true' });
    office = await createOffice(t, ['6326'], '果洛藏族自治州市场监督管理局');
    otherOffice = await createOffice(t, ['632699'], '果洛州另一个局');
    const merchant = await createMerchant(t, { webhookUrl: 'http://127.0.0.1:9/hejie-uc' });
    const store = await createStore(t, merchant.id, { regionCode: '632621' });
    const account = (provider: string) =>
      store.paymentAccounts.find((a) => a.provider === provider)!.accountId;
    shop = {
      merchant,
      store,
      account,
      accountId: account('sunmi-pos'),
      staff: bearer(t.token({ role: 'merchant', sub: 'staff-uc', merchantId: merchant.id })),
    } as unknown as Shop;
  });
  afterAll(() => t.close());

  describe('intake', () => {
    it('creates the ticket, its first event, its outbox row and the webhook delivery; replays', async () => {
      const intake = t.app.get(IntakeUseCase, { strict: false });
      const receipt = await createReceipt(t, { accountId: shop.accountId });
      const consumer = consumerOf(receipt.payerId);
      const key = `uc-${randomBytes(6).toString('hex')}`;
      const input = {
        receiptId: receipt.id,
        category: 'quality' as const,
        demand: { type: 'refund' as const, amountMinor: 100 },
        description: 'Broken on arrival.',
      };
      const { ticket, replayed } = await intake.create(consumer, input, key);
      expect(replayed).toBe(false);
      expect(ticket).toMatchObject({ status: 'awaiting_merchant', merchantId: shop.merchant.id });
      expect(await countOf('complaint_events', ticket.id)).toBe(1);
      expect(await countOf('outbox', ticket.id, `topic = 'stats'`)).toBe(1);
      expect(await countOf('webhook_deliveries', ticket.id)).toBe(1);
      await expectValidTrail(ticket.id);

      const again = await intake.create(consumer, input, key);
      expect(again).toMatchObject({ replayed: true, ticket: { id: ticket.id } });
      await expect(intake.create(consumer, input, `${key}-2`)).rejects.toMatchObject({
        code: 'COMPLAINT_EXISTS',
      });
      expect(await countOf('complaint_events', ticket.id)).toBe(1);
    });

    it('refuses a refund above the amount paid and writes nothing', async () => {
      const intake = t.app.get(IntakeUseCase, { strict: false });
      const receipt = await createReceipt(t, { accountId: shop.accountId });
      await expect(
        intake.create(consumerOf(receipt.payerId), {
          receiptId: receipt.id,
          category: 'quality',
          demand: { type: 'refund', amountMinor: 10 ** 9 },
          description: 'Too much.',
        }),
      ).rejects.toMatchObject({ code: 'DEMAND_EXCEEDS_PAYMENT' });
      const rows = await t.db.query('SELECT 1 FROM complaints WHERE receipt_id = $1', [receipt.id]);
      expect(rows).toHaveLength(0);
    });
  });

  describe('reading', () => {
    it('answers only those who may see the ticket; a regulator view is recorded once', async () => {
      const reading = t.app.get(ReadingUseCase, { strict: false });
      const tk = await ticketIn(t, shop, 'escalated');
      const consumer = consumerOf(tk.consumerSub);
      expect((await reading.get(tk.id, consumer)).id).toBe(tk.id);
      await expect(reading.get(tk.id, consumerOf('alipay:2088999999999999'))).rejects.toMatchObject(
        { code: 'NOT_FOUND' },
      );
      await expect(reading.get(tk.id, officer(otherOffice.id))).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      const before = (await rowOf(tk.id)).event_count;
      const seen = await reading.get(tk.id, officer(office.id));
      expect(seen).toHaveProperty('serialComplainant');
      await reading.get(tk.id, officer(office.id));
      expect((await rowOf(tk.id)).event_count).toBe(before + 1);
      const events = await reading.events(tk.id, consumer);
      expect(events.at(-1)).toMatchObject({ type: 'regulator_viewed' });
      expect(await reading.verify(tk.id, consumer)).toEqual({
        valid: true,
        length: before + 1,
      });
      const listed = await reading.list(officer(office.id), { limit: 100 });
      expect(listed.items.every((v) => v.officeId === office.id)).toBe(true);
      await expect(reading.list(consumer, { unassigned: true })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    });
  });

  describe('negotiation', () => {
    it('message, offers (superseded, rejected), withdrawal lapsing the pending offer', async () => {
      const negotiation = t.app.get(NegotiationUseCase, { strict: false });
      const tk = await ticketIn(t, shop, 'awaiting_merchant');
      const merchant = merchantOf(shop);
      const consumer = consumerOf(tk.consumerSub);
      expect(await negotiation.message(tk.id, merchant, 'We are on it.')).toMatchObject({ seq: 2 });
      const moved = await rowOf(tk.id);
      expect(moved.status).toBe('in_negotiation');
      expect(moved.first_response_at).not.toBeNull();
      const first = await negotiation.makeOffer(tk.id, merchant, {
        type: 'partial_refund',
        amountMinor: 50,
      });
      const second = await negotiation.makeOffer(tk.id, merchant, { type: 'apology' });
      const offers: { id: string; status: string }[] = await t.db.query(
        'SELECT id, status FROM complaint_offers WHERE complaint_id = $1',
        [tk.id],
      );
      expect(Object.fromEntries(offers.map((o) => [o.id, o.status]))).toEqual({
        [first.id]: 'superseded',
        [second.id]: 'pending',
      });
      await expect(negotiation.acceptOffer(tk.id, consumer, first.id)).rejects.toMatchObject({
        code: 'INVALID_TRANSITION',
      });
      const rejected = await negotiation.rejectOffer(tk.id, consumer, second.id, 'no');
      expect(rejected.pendingOfferId).toBeNull();
      const third = await negotiation.makeOffer(tk.id, merchant, { type: 'exchange' });
      const withdrawn = await negotiation.withdraw(tk.id, consumer, 'sorted it out');
      expect(withdrawn).toMatchObject({ status: 'withdrawn', pendingOfferId: null });
      const [{ status }] = await t.db.query('SELECT status FROM complaint_offers WHERE id = $1', [
        third.id,
      ]);
      expect(status).toBe('lapsed');
      await expectValidTrail(tk.id);
    });
  });

  describe('escalation', () => {
    it('the consumer: too early before the merchant answered; routed to the office after', async () => {
      const escalation = t.app.get(EscalationUseCase, { strict: false });
      const waiting = await ticketIn(t, shop, 'awaiting_merchant');
      await expect(
        escalation.escalate(waiting.id, consumerOf(waiting.consumerSub), 'no answer'),
      ).rejects.toMatchObject({ code: 'ESCALATION_TOO_EARLY' });
      const tk = await ticketIn(t, shop, 'in_negotiation');
      const view = await escalation.escalate(tk.id, consumerOf(tk.consumerSub), 'no progress');
      expect(view).toMatchObject({ status: 'escalated', officeId: office.id });
      expect(await countOf('webhook_deliveries', tk.id, `type = 'complaint.escalated'`)).toBe(1);
      await expectValidTrail(tk.id);
    });

    it('the worker: nothing before the deadline, the due rule after it', async () => {
      const escalation = t.app.get(EscalationUseCase, { strict: false });
      const tk = await ticketIn(t, shop, 'awaiting_merchant');
      const before = await rowOf(tk.id);
      expect(await escalation.escalateIfDue(tk.id)).toBe(false);
      expect((await rowOf(tk.id)).event_count).toBe(before.event_count);
      await t.db.query(
        `UPDATE complaints SET merchant_respond_by = now() - interval '1 minute' WHERE id = $1`,
        [tk.id],
      );
      expect(await escalation.escalateIfDue(tk.id)).toBe('merchant_no_response');
      expect(await rowOf(tk.id)).toMatchObject({ status: 'escalated', office_id: office.id });
      expect(await escalation.escalateIfDue(tk.id)).toBe(false);
      await expectValidTrail(tk.id);
    });
  });

  describe('regulator', () => {
    it('accept, extend, record the mediation; transfer and decline', async () => {
      const regulator = t.app.get(RegulatorUseCase, { strict: false });
      const me = officer(office.id);
      const tk = await ticketIn(t, shop, 'escalated');
      const accepted = await regulator.acceptCase(tk.id, me);
      expect(accepted).toMatchObject({ status: 'mediating' });
      const extended = await regulator.extend(tk.id, me, 'mediationEndBy', 2, 'expert report');
      expect(extended.extensions).toHaveLength(1);
      expect(new Date(extended.mediationEndBy!).getTime()).toBeGreaterThan(
        new Date(accepted.mediationEndBy!).getTime(),
      );
      expect(await regulator.terminateMediationIfDue(tk.id)).toBe(false);
      const done = await regulator.recordMediation(tk.id, me, 'agreement', 'settled', 'refund');
      expect(done.status).toBe('mediated');
      await expectValidTrail(tk.id);

      const moved = await ticketIn(t, shop, 'escalated');
      const transferred = await regulator.transfer(moved.id, me, otherOffice.id);
      expect(transferred.officeId).toBe(otherOffice.id);
      await expect(regulator.decline(moved.id, me, 'outside_jurisdiction')).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      const declined = await regulator.decline(
        moved.id,
        officer(otherOffice.id),
        'outside_jurisdiction',
      );
      expect(declined.status).toBe('declined');
    });

    it('the worker ends a mediation past its time limit', async () => {
      const regulator = t.app.get(RegulatorUseCase, { strict: false });
      const tk = await ticketIn(t, shop, 'mediating', {
        regulator: bearer(t.token({ role: 'regulator', sub: 'officer-uc', officeId: office.id })),
      });
      await t.db.query(
        `UPDATE complaints SET mediation_end_by = now() - interval '1 minute' WHERE id = $1`,
        [tk.id],
      );
      expect(await regulator.terminateMediationIfDue(tk.id)).toBe(true);
      expect(await rowOf(tk.id)).toMatchObject({
        status: 'mediation_failed',
        decided_by: 'system',
      });
      expect(await regulator.terminateMediationIfDue(tk.id)).toBe(false);
    });
  });

  describe('change writer', () => {
    it('a batch whose guard fails for one ticket writes nothing for any', async () => {
      const writer = t.app.get(ChangeWriter, { strict: false });
      const a = await ticketIn(t, shop, 'awaiting_merchant');
      const b = await ticketIn(t, shop, 'awaiting_merchant');
      const now = new Date();
      const rows = [
        await rowOf(a.id),
        { ...(await rowOf(b.id)), status: 'in_negotiation' as const },
      ];
      const changes = rows.map((r) =>
        planChange(r, 'awaiting_merchant', { event: { type: 'note', data: {} } }, SWEEPER, now),
      );
      await expect(t.db.transaction((tx) => writer.apply(tx, changes))).rejects.toMatchObject({
        code: 'INVALID_TRANSITION',
      });
      for (const id of [a.id, b.id]) {
        expect(await rowOf(id)).toMatchObject({ status: 'awaiting_merchant', event_count: 1 });
        expect(await countOf('outbox', id)).toBe(1);
      }
      // The same batch with the right guards: both written, with their events and outbox rows.
      const fixed = [await rowOf(a.id), await rowOf(b.id)].map((r) =>
        planChange(r, r.status, { event: { type: 'note', data: {} } }, SWEEPER, now),
      );
      // Two changes of one ticket in a batch cannot both be chained from the row: refused.
      await expect(writer.apply(t.db, [fixed[0], fixed[0]])).rejects.toThrow(
        /one change per ticket/,
      );
      const written = await t.db.transaction((tx) => writer.apply(tx, fixed));
      expect(written.map((r) => r.event_count)).toEqual([2, 2]);
      for (const id of [a.id, b.id]) {
        expect(await countOf('outbox', id)).toBe(2);
        await expectValidTrail(id);
      }
    });
  });
});
