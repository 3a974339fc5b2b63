/*
 * Named statements on the primary's pool (libs/shared/src/prepared.ts): initiate resolution
 * sends its read and its write under a name, so PostgreSQL parses and plans each once per
 * connection; a statement prepared before a column was added is sent again under a new name
 * instead of failing ("cached plan must not change result type").
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { preparedOn } from '@app/shared/prepared';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { complaintBody, createReceipt, createShop, Shop } from './factories/complaint.factory';

describe('named statements on the primary (preparedOn)', () => {
  let t: TestApp;
  let shop: Shop;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000', RATE_LIMIT_WINDOW: '1m' });
    shop = await createShop(t, '630105');
  });
  afterAll(() => t.close());

  it('initiate resolution sends its read and its write as named statements, the same names each time', async () => {
    const sent: { name?: string; text: string }[] = [];
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
      this: Client,
      ...args: unknown[]
    ) {
      const q = args[0] as string | { name?: string; text: string };
      sent.push(typeof q === 'string' ? { text: q } : { name: q.name, text: q.text });
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query);
    let first: (string | undefined)[] | undefined;
    try {
      for (let i = 0; i < 2; i++) {
        const receipt = await createReceipt(t, { accountId: shop.accountId });
        sent.length = 0;
        await t.http
          .post('/v1/complaints')
          .set(bearer(t.token({ role: 'consumer', sub: receipt.payerId })))
          .set('Idempotency-Key', `k-${randomBytes(6).toString('hex')}`)
          .send(complaintBody(receipt.id))
          .expect(201);
        expect(sent).toHaveLength(2);
        expect(sent[0].text).toMatch(/^\s*SELECT c\.\*/);
        expect(sent[1].text).toMatch(/^WITH c AS \(\s*INSERT INTO complaints/);
        for (const s of sent) expect(s.name).toMatch(/^hj\d+_[0-9a-f]{24}$/);
        if (first) expect(sent.map((s) => s.name)).toEqual(first);
        else first = sent.map((s) => s.name);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('a statement prepared before a column was added is sent again under a new name', async () => {
    const table = `prepared_probe_${randomBytes(4).toString('hex')}`;
    await t.db.query(`CREATE TABLE ${table} (a int)`);
    try {
      await t.db.query(`INSERT INTO ${table} VALUES (1)`);
      const primary = preparedOn(t.db);
      const sql = `SELECT * FROM ${table}`;
      // Prepared on the pool's connections one after another (the pool hands back the last
      // released connection first: the ALTER below runs on it too).
      for (let i = 0; i < 3; i++) expect(await primary.query(sql)).toEqual([{ a: 1 }]);
      await t.db.query(`ALTER TABLE ${table} ADD COLUMN b int DEFAULT 2`);
      // Without the retry: "cached plan must not change result type".
      for (let i = 0; i < 3; i++) expect(await primary.query(sql)).toEqual([{ a: 1, b: 2 }]);
      // Other errors are pg's own, unchanged.
      await expect(primary.query(`SELECT * FROM ${table}_missing`)).rejects.toMatchObject({
        code: '42P01',
      });
    } finally {
      await t.db.query(`DROP TABLE ${table}`);
    }
  });
});
