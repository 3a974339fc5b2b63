import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createMerchantWithStore } from './factories/directory.factory';
import { createReceipt } from './factories/complaint.factory';

describe('complaint happy path', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('receipt → ticket → offer → accept', async () => {
    const { merchant, account } = await createMerchantWithStore(t);
    const receipt = await createReceipt(t, { accountId: account('sunmi-pos') });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const staff = bearer(t.token({ role: 'merchant', sub: 'staff-1', merchantId: merchant.id }));
    const created = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .send({
        receiptId: receipt.id,
        category: 'quality',
        demand: { type: 'refund', amountMinor: 12800 },
        description: 'The kettle leaks from the bottom.',
        contactPhone: '13812345678',
      });
    if (created.status !== 201) console.log(created.body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'awaiting_merchant', merchantId: merchant.id });
    const id = created.body.id;
    const seen = await t.http.get(`/v1/complaints/${id}`).set(staff).expect(200);
    expect(seen.body.contactPhone).toBe('138****5678');
    const offer = await t.http
      .post(`/v1/complaints/${id}/offers`)
      .set(staff)
      .send({ type: 'refund', amountMinor: 12800 });
    expect(offer.status).toBe(201);
    const accepted = await t.http
      .post(`/v1/complaints/${id}/offers/${offer.body.id}/accept`)
      .set(consumer);
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('settling');
    const confirmed = await t.http
      .post(`/v1/complaints/${id}/settlement/confirm`)
      .set(consumer)
      .send({});
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'resolved', settledVia: 'consumer' });
    const verify = await t.http.get(`/v1/complaints/${id}/events/verify`).set(consumer).expect(200);
    expect(verify.body).toEqual({ valid: true, length: 4 });
  });

  it('the schema refuses an escalation status without escalated_at (the queues page on it)', async () => {
    const { account } = await createMerchantWithStore(t);
    const receipt = await createReceipt(t, { accountId: account('sunmi-pos') });
    const consumer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const created = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .send({
        receiptId: receipt.id,
        category: 'quality',
        demand: { type: 'apology' },
        description: 'Rude staff at the counter.',
      })
      .expect(201);
    await expect(
      t.db.query(`UPDATE complaints SET status = 'escalated' WHERE id = $1`, [created.body.id]),
    ).rejects.toThrow(/ck_complaints_escalated_at/);
    await t.db.query(
      `UPDATE complaints SET status = 'escalated', escalated_at = now() WHERE id = $1`,
      [created.body.id],
    );
    const [row] = await t.db.query('SELECT status FROM complaints WHERE id = $1', [
      created.body.id,
    ]);
    expect(row.status).toBe('escalated');
  });
});
