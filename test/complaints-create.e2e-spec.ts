/*
 * "Initiate resolution" in two statements (libs/complaints/src/ticket-intake.ts): one read of
 * the key's ticket, the receipt and its ticket; one write of the ticket, its 'created' event,
 * the outbox row and the merchant's webhook delivery. What must hold about that write: the 201 is
 * the ticket as stored, every side row exists exactly once, and a write that fails leaves nothing.
 * Qinghai region codes (630104).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ComplaintRow, nextEvent, ticketNumber } from '@app/complaints';
import type { PendingEvent } from '@app/complaints';
import { readIntake } from '../libs/complaints/src/ticket-intake';
import { ChangeWriter } from '../libs/complaints/src/changes/change-writer';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { statementsOf } from './helpers/pg-statements';
import { complaintBody, createReceipt, createShop, Shop } from './factories/complaint.factory';
import { createMerchant, createStore } from './factories/directory.factory';

const REGION = '630104';

describe('POST /v1/complaints: one read, one write', () => {
  let t: TestApp;
  let shop: Shop;
  let hooked: { merchantId: string; accountId: string; staff: { Authorization: string } };

  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT: '100000',
      RATE_LIMIT_WINDOW: '1m',
      // The hooked merchant's URL is http://127.0.0.1 (nothing listens).
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    shop = await createShop(t, REGION);
    // No worker runs here: the delivery stays pending, which is what is looked at.
    const merchant = await createMerchant(t, { webhookUrl: 'http://127.0.0.1:9/hejie-hook' });
    const store = await createStore(t, merchant.id, { regionCode: REGION });
    hooked = {
      merchantId: merchant.id,
      accountId: store.paymentAccounts.find((a) => a.provider === 'sunmi-pos')!.accountId,
      staff: bearer(t.token({ role: 'merchant', sub: 'staff-w', merchantId: merchant.id })),
    };
  });
  afterAll(() => t.close());

  const rows = (table: string, complaintId: string) =>
    t.db.query(`SELECT * FROM ${table} WHERE complaint_id = $1`, [complaintId]);
  const open = async (accountId: string, key?: string) => {
    const receipt = await createReceipt(t, { accountId });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    let req = t.http.post('/v1/complaints').set(consumer);
    if (key) req = req.set('Idempotency-Key', key);
    const res = await req
      .send(complaintBody(receipt.id, { contactPhone: '13812345678' }))
      .expect(201);
    return { receipt, consumer, ticket: res.body };
  };

  it('answers with the ticket as stored, numbered by its Shanghai date, with one verified event and one outbox row', async () => {
    const key = `k-${randomBytes(6).toString('hex')}`;
    const { receipt, consumer, ticket } = await open(shop.accountId, key);
    // Built from RETURNING, not re-read: it must be what GET shows.
    const got = await t.http.get(`/v1/complaints/${ticket.id}`).set(consumer).expect(200);
    expect(ticket).toEqual(got.body);
    expect(ticket).toMatchObject({
      status: 'awaiting_merchant',
      receiptId: receipt.id,
      contactPhone: '13812345678',
      order: { amountMinor: 12800, currency: 'CNY' },
      demand: { type: 'refund', amountMinor: 12800 },
    });
    const seq = Number(/^HJ-\d{6}-(\d{6,})$/.exec(ticket.number)![1]);
    expect(ticket.number).toBe(ticketNumber(new Date(ticket.createdAt), seq));

    const [stored] = await t.db.query(
      'SELECT contact_phone_enc, contact_phone_masked FROM complaints WHERE id = $1',
      [ticket.id],
    );
    expect(stored.contact_phone_enc).not.toContain('13812345678');
    expect(stored.contact_phone_masked).toBe('138****5678');

    const events = await rows('complaint_events', ticket.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ seq: 1, type: 'created', actor_role: 'consumer' });
    const verified = await t.http
      .get(`/v1/complaints/${ticket.id}/events/verify`)
      .set(consumer)
      .expect(200);
    expect(verified.body).toEqual({ valid: true, length: 1 });

    const outbox = await rows('outbox', ticket.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ topic: 'stats', event_seq: 1, event_type: 'created' });
    expect(outbox[0].payload).toMatchObject({
      status: 'awaiting_merchant',
      actor: { role: 'consumer', id: receipt.payerId },
      at: ticket.createdAt,
      data: { complaintId: ticket.id, receiptId: receipt.id, merchantId: shop.merchant.id },
    });
    // This merchant has no webhook URL.
    expect(await rows('webhook_deliveries', ticket.id)).toEqual([]);

    // The same key replays the same answer.
    const again = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .set('Idempotency-Key', key)
      .send(complaintBody(receipt.id, { contactPhone: '13812345678' }))
      .expect(201);
    expect(again.body).toEqual(ticket);
  });

  it('makes two PostgreSQL statements, one read and one write, and no transaction', async () => {
    const receipt = await createReceipt(t, { accountId: hooked.accountId });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const sent = await statementsOf(() =>
      t.http
        .post('/v1/complaints')
        .set(consumer)
        .set('Idempotency-Key', `k-${randomBytes(6).toString('hex')}`)
        .send(complaintBody(receipt.id, { contactPhone: '13812345678' }))
        .expect(201),
    );
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^\s*SELECT c\.\*/);
    expect(sent[1]).toMatch(/^WITH c AS \(\s*INSERT INTO complaints/);
  });

  it('queues exactly one complaint.created delivery for a merchant with a webhook URL, showing what GET shows the merchant', async () => {
    const { ticket } = await open(hooked.accountId);
    const deliveries = await rows('webhook_deliveries', ticket.id);
    expect(deliveries).toHaveLength(1);
    const [d] = deliveries;
    expect(d).toMatchObject({
      merchant_id: hooked.merchantId,
      event_seq: 1,
      type: 'complaint.created',
      state: 'pending',
      attempts: 0,
    });
    expect(d.created_at.toISOString()).toBe(ticket.createdAt);
    const asMerchant = await t.http
      .get(`/v1/complaints/${ticket.id}`)
      .set(hooked.staff)
      .expect(200);
    expect(d.payload).toEqual({
      id: d.id,
      type: 'complaint.created',
      occurredAt: ticket.createdAt,
      eventSeq: 1,
      complaint: asMerchant.body,
      data: expect.objectContaining({ complaintId: ticket.id, contactPhoneGiven: true }),
    });
    expect(JSON.stringify(d.payload)).not.toContain('13812345678');
  });

  it('20 parallel taps on a hooked merchant: one ticket, one event, one outbox row, one delivery', async () => {
    const receipt = await createReceipt(t, { accountId: hooked.accountId });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.http.post('/v1/complaints').set(consumer).send(complaintBody(receipt.id)),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    const id = created[0].body.id;
    for (const r of results.filter((x) => x.status !== 201))
      expect(r.body).toMatchObject({ status: 409, code: 'COMPLAINT_EXISTS', complaintId: id });
    const count = async (sql: string) => (await t.db.query(sql, [receipt.id]))[0].n;
    expect(
      await count(
        `SELECT count(*)::int AS n FROM complaint_events WHERE data->>'receiptId' = $1::text`,
      ),
    ).toBe(1);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM outbox WHERE payload->'data'->>'receiptId' = $1::text`,
      ),
    ).toBe(1);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE payload->'complaint'->>'receiptId' = $1::text`,
      ),
    ).toBe(1);
  });

  describe('the write statement', () => {
    const leftovers = async (id: string) => ({
      complaints: (await t.db.query('SELECT id FROM complaints WHERE id = $1', [id])).length,
      events: (await rows('complaint_events', id)).length,
      outbox: (await rows('outbox', id)).length,
      deliveries: (await rows('webhook_deliveries', id)).length,
    });
    const nothing = { complaints: 0, events: 0, outbox: 0, deliveries: 0 };
    /** The change writer's insert (create()'s one statement), outside any transaction. */
    const insert = (row: ComplaintRow, event: PendingEvent, hooked?: boolean) =>
      t.app
        .get(ChangeWriter, { strict: false })
        .apply(t.db, [{ kind: 'insert', row, event, hooked }]);

    /** A second ticket for the receipt of `row` (a hooked merchant's), as create() would build it. */
    const copyOf = (row: ComplaintRow, receiptId = row.receipt_id): ComplaintRow => ({
      ...row,
      id: randomUUID(),
      number: `HJ-TEST-${randomBytes(6).toString('hex')}`,
      receipt_id: receiptId,
      idempotency_key: null,
    });

    it('a unique violation (the receipt has its ticket) writes no event, outbox row or delivery', async () => {
      const { ticket } = await open(hooked.accountId);
      const [row]: ComplaintRow[] = await t.db.query('SELECT * FROM complaints WHERE id = $1', [
        ticket.id,
      ]);
      const dup = copyOf(row);
      const event = nextEvent(
        { event_count: 0, head_hash: null },
        'created',
        {
          role: 'consumer',
          id: row.consumer_id,
        },
        new Date(),
        { complaintId: dup.id },
      );
      await expect(insert(dup, event)).rejects.toMatchObject({
        code: '23505',
        constraint: 'uq_complaints_receipt',
      });
      expect(await leftovers(dup.id)).toEqual(nothing);
    });

    it('a failure in a later part (the event) leaves no ticket either', async () => {
      const { ticket } = await open(hooked.accountId);
      const [row]: ComplaintRow[] = await t.db.query('SELECT * FROM complaints WHERE id = $1', [
        ticket.id,
      ]);
      const fresh = await createReceipt(t, { accountId: hooked.accountId });
      const dup = copyOf(row, fresh.id);
      const event = nextEvent(
        { event_count: 0, head_hash: null },
        'created',
        {
          role: 'consumer',
          id: row.consumer_id,
        },
        new Date(),
        { complaintId: dup.id },
      );
      // prev_hash is char(64): 65 characters fail the event insert, after the ticket's.
      await expect(insert(dup, { ...event, prevHash: 'f'.repeat(65) })).rejects.toMatchObject({
        code: '22001',
      });
      expect(await leftovers(dup.id)).toEqual(nothing);
      // The receipt is still free.
      expect(
        (await t.db.query('SELECT 1 FROM complaints WHERE receipt_id = $1', [fresh.id])).length,
      ).toBe(0);
    });

    it('builds no delivery when the read said the merchant has no webhook URL (hooked: false)', async () => {
      // The read says which merchants have a URL.
      const withUrl = await createReceipt(t, { accountId: hooked.accountId });
      const withoutUrl = await createReceipt(t, { accountId: shop.accountId });
      const facts = async (r: { id: string; payerId: string }) =>
        (await readIntake(t.db, { consumerId: r.payerId, receiptId: r.id, takeNumber: false }))
          .receipt;
      expect(await facts(withUrl)).toMatchObject({ merchant_hooked: true });
      expect(await facts(withoutUrl)).toMatchObject({ merchant_hooked: false });

      // A hooked merchant's ticket written with hooked: false gets no delivery: the payload is
      // not built at all (create() passes what its read said; a URL set in between is missed,
      // as one set a moment after the creation would be). Left out, the writer builds it.
      const { ticket } = await open(hooked.accountId);
      const [row]: ComplaintRow[] = await t.db.query('SELECT * FROM complaints WHERE id = $1', [
        ticket.id,
      ]);
      const write = async (hint?: boolean) => {
        const dup = copyOf(row, (await createReceipt(t, { accountId: hooked.accountId })).id);
        const event = nextEvent(
          { event_count: 0, head_hash: null },
          'created',
          { role: 'consumer', id: row.consumer_id },
          new Date(),
          { complaintId: dup.id },
        );
        await insert(dup, event, hint);
        return leftovers(dup.id);
      };
      const ticketOnly = { complaints: 1, events: 1, outbox: 1 };
      expect(await write(false)).toEqual({ ...ticketOnly, deliveries: 0 });
      expect(await write(undefined)).toEqual({ ...ticketOnly, deliveries: 1 });
      expect(await write(true)).toEqual({ ...ticketOnly, deliveries: 1 });
    });
  });

  it('the read takes a ticket number only when a ticket may follow', async () => {
    const take = (consumerId: string, receiptId: string, idempotencyKey?: string) =>
      readIntake(t.db, { consumerId, receiptId, idempotencyKey, takeNumber: true });
    const key = `k-${randomBytes(6).toString('hex')}`;
    const { receipt, ticket } = await open(shop.accountId, key);
    const free = await createReceipt(t, { accountId: shop.accountId });
    const payer = (r: { payerId: string }) => r.payerId;

    const admissible = await take(payer(free), free.id);
    expect(admissible).toMatchObject({ replay: null, existingId: null });
    expect(admissible.receipt).toMatchObject({ id: free.id, merchant_id: shop.merchant.id });
    expect(admissible.number).toEqual(expect.any(Number));
    // Without takeNumber (the race's re-read), none.
    expect(
      (await readIntake(t.db, { consumerId: payer(free), receiptId: free.id, takeNumber: false }))
        .number,
    ).toBeNull();

    const replay = await take(payer(receipt), free.id, key);
    expect(replay.replay).toMatchObject({ id: ticket.id, receipt_id: receipt.id });
    expect(replay.number).toBeNull();
    const existing = await take(payer(receipt), receipt.id);
    expect(existing).toMatchObject({ replay: null, existingId: ticket.id, number: null });
    expect((await take('sunmi-pos:someone-else', free.id)).number).toBeNull();
    expect(await take(payer(free), randomUUID())).toEqual({
      replay: null,
      receipt: null,
      existingId: null,
      number: null,
    });
    const unenrolled = await createReceipt(t, {
      accountId: `nobody-${randomBytes(4).toString('hex')}`,
    });
    expect(unenrolled.merchantId).toBeNull();
    const u = await take(payer(unenrolled), unenrolled.id);
    expect(u.receipt).toMatchObject({ id: unenrolled.id, merchant_id: null });
    expect(u.number).toBeNull();
  });
});
