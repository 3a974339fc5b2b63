import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import {
  createMerchant,
  createMerchantWithStore,
  createStore,
  newCreditCode,
  uniqueAccount,
} from './factories/directory.factory';

/** A credit code whose check character is wrong (every other rule holds). */
function withWrongCheckChar(code: string): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const wrong = alphabet[(alphabet.indexOf(code[17]) + 1) % alphabet.length];
  return code.slice(0, 17) + wrong;
}

const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

describe('directory (admin)', () => {
  let t: TestApp;
  let admin: { Authorization: string };
  beforeAll(async () => {
    t = await startTestApp();
    admin = bearer(t.token({ role: 'admin' }));
  });
  afterAll(() => t.close());

  const count = async (sql: string, params: unknown[]): Promise<number> =>
    Number((await t.db.query(sql, params))[0].n);

  /** Every page of a list with `limit`, following nextCursor; `between` runs after page 1. */
  async function walk<T>(
    path: string,
    auth: { Authorization: string },
    limit: number,
    between?: () => Promise<unknown>,
  ): Promise<{ pages: Page<T>[]; items: T[] }> {
    const pages: Page<T>[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await t.http
        .get(path)
        .query({ limit, ...(cursor ? { cursor } : {}) })
        .set(auth)
        .expect(200);
      pages.push(res.body);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      cursor = res.body.nextCursor;
      if (pages.length === 1 && between) await between();
      if (pages.length > 500) throw new Error('pagination does not terminate');
    } while (cursor !== null);
    return { pages, items: pages.flatMap((p) => p.items) };
  }

  describe('POST /v1/merchants', () => {
    it('201 with the merchant, as stored', async () => {
      const creditCode = newCreditCode();
      const res = await t.http
        .post('/v1/merchants')
        .set(admin)
        .send({
          name: '西湖边茶馆有限公司',
          creditCode,
          contactEmail: 'ops@tea.example',
          webhookUrl: 'https://93.184.215.14/hooks/hejie',
        })
        .expect(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: '西湖边茶馆有限公司',
        creditCode,
        contactEmail: 'ops@tea.example',
        webhookUrl: 'https://93.184.215.14/hooks/hejie',
        // Shown this once (see test/webhooks.e2e-spec.ts).
        webhookSecret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
        createdAt: expect.stringMatching(
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/,
        ),
      });
      const rows = await t.db.query(
        'SELECT name, credit_code, contact_email, webhook_url FROM merchants WHERE id = $1',
        [res.body.id],
      );
      expect(rows).toEqual([
        {
          name: '西湖边茶馆有限公司',
          credit_code: creditCode,
          contact_email: 'ops@tea.example',
          webhook_url: 'https://93.184.215.14/hooks/hejie',
        },
      ]);
    });

    it('optional fields default to null', async () => {
      const res = await t.http
        .post('/v1/merchants')
        .set(admin)
        .send({ name: 'Plain', creditCode: newCreditCode() })
        .expect(201);
      expect(res.body).toMatchObject({ contactEmail: null, webhookUrl: null });
    });

    it('422 CREDIT_CODE_INVALID for a wrong check character; nothing written', async () => {
      const bad = withWrongCheckChar(newCreditCode());
      const res = await t.http
        .post('/v1/merchants')
        .set(admin)
        .send({ name: 'Bad code', creditCode: bad })
        .expect(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 422, code: 'CREDIT_CODE_INVALID' });
      expect(await count('SELECT count(*) AS n FROM merchants WHERE credit_code = $1', [bad])).toBe(
        0,
      );
    });

    it.each([
      ['too short', '91330106MA2B3C4D5'],
      ['lower case', newCreditCode().toLowerCase()],
      ['letter outside the alphabet', '91330106MA2B3C4DI' + 'X'],
    ])('422 CREDIT_CODE_INVALID for a code that is %s', async (_why, creditCode) => {
      const res = await t.http
        .post('/v1/merchants')
        .set(admin)
        .send({ name: 'Bad code', creditCode })
        .expect(422);
      expect(res.body.code).toBe('CREDIT_CODE_INVALID');
    });

    it('409 MERCHANT_EXISTS on a duplicate credit code; the first stays the only one', async () => {
      const creditCode = newCreditCode();
      const first = await createMerchant(t, { creditCode, name: 'First' });
      const res = await t.http
        .post('/v1/merchants')
        .set(admin)
        .send({ name: 'Second', creditCode })
        .expect(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 409, code: 'MERCHANT_EXISTS' });
      const rows = await t.db.query('SELECT id, name FROM merchants WHERE credit_code = $1', [
        creditCode,
      ]);
      expect(rows).toEqual([{ id: first.id, name: 'First' }]);
    });

    it('concurrent duplicates: one 201, the others 409 (never 500)', async () => {
      const creditCode = newCreditCode();
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          t.http
            .post('/v1/merchants')
            .set(admin)
            .send({ name: `Racer ${i}`, creditCode }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409]);
      expect(
        await count('SELECT count(*) AS n FROM merchants WHERE credit_code = $1', [creditCode]),
      ).toBe(1);
    });

    it('400 VALIDATION_FAILED on an unknown field (never silently ignored); nothing written', async () => {
      const creditCode = newCreditCode();
      const res = await t.http
        .post('/v1/merchants')
        .set(admin)
        .send({ name: 'Extra', creditCode, vip: true })
        .expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'vip' })]),
      );
      expect(
        await count('SELECT count(*) AS n FROM merchants WHERE credit_code = $1', [creditCode]),
      ).toBe(0);
    });

    it.each([
      ['missing name', { creditCode: newCreditCode() }, 'name'],
      ['empty name', { name: '', creditCode: newCreditCode() }, 'name'],
      ['missing creditCode', { name: 'No code' }, 'creditCode'],
      ['non-string creditCode', { name: 'x', creditCode: 913301061 }, 'creditCode'],
      [
        'bad email',
        { name: 'x', creditCode: newCreditCode(), contactEmail: 'nope' },
        'contactEmail',
      ],
      [
        'non-http webhook',
        { name: 'x', creditCode: newCreditCode(), webhookUrl: 'ftp://x.example/a' },
        'webhookUrl',
      ],
    ])('400 VALIDATION_FAILED: %s', async (_why, body, field) => {
      const res = await t.http.post('/v1/merchants').set(admin).send(body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('400 VALIDATION_FAILED problem for malformed JSON', async () => {
      const res = await t.http
        .post('/v1/merchants')
        .set(admin)
        .set('content-type', 'application/json')
        .send('{"name": "x", ')
        .expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it.each([
      ['merchant', { role: 'merchant', merchantId: randomUUID() }],
      ['regulator', { role: 'regulator', officeId: randomUUID() }],
      ['consumer', { role: 'consumer', sub: 'alipay:2088000000000001' }],
    ])('403 FORBIDDEN for a %s; nothing written', async (_role, claims) => {
      const creditCode = newCreditCode();
      const res = await t.http
        .post('/v1/merchants')
        .set(bearer(t.token(claims)))
        .send({ name: 'Sneaky', creditCode })
        .expect(403);
      expect(res.body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(
        await count('SELECT count(*) AS n FROM merchants WHERE credit_code = $1', [creditCode]),
      ).toBe(0);
    });

    it('401 UNAUTHENTICATED without a token; nothing written', async () => {
      const creditCode = newCreditCode();
      const res = await t.http.post('/v1/merchants').send({ name: 'Anon', creditCode }).expect(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect(
        await count('SELECT count(*) AS n FROM merchants WHERE credit_code = $1', [creditCode]),
      ).toBe(0);
    });
  });

  describe('POST /v1/merchants/:merchantId/stores', () => {
    it('201 with the store and its payment accounts, as stored', async () => {
      const merchant = await createMerchant(t);
      const alipay = uniqueAccount('2088');
      const wechat = uniqueAccount('16');
      const res = await t.http
        .post(`/v1/merchants/${merchant.id}/stores`)
        .set(admin)
        .send({
          name: '湖滨银泰店',
          address: '杭州市上城区延安路258号',
          regionCode: '330102',
          paymentAccounts: [
            { provider: 'alipay', accountId: alipay },
            { provider: 'wechatpay', accountId: wechat },
          ],
        })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        merchantId: merchant.id,
        name: '湖滨银泰店',
        address: '杭州市上城区延安路258号',
        regionCode: '330102',
        regionName: '上城区',
        paymentAccounts: [
          { provider: 'alipay', accountId: alipay },
          { provider: 'wechatpay', accountId: wechat },
        ],
        createdAt: expect.any(String),
      });
      const stores = await t.db.query('SELECT merchant_id, region_code FROM stores WHERE id = $1', [
        res.body.id,
      ]);
      expect(stores).toEqual([{ merchant_id: merchant.id, region_code: '330102' }]);
      const accounts = await t.db.query(
        'SELECT provider, account_id FROM payment_accounts WHERE store_id = $1 ORDER BY provider',
        [res.body.id],
      );
      expect(accounts).toEqual([
        { provider: 'alipay', account_id: alipay },
        { provider: 'wechatpay', account_id: wechat },
      ]);
    });

    it.each([
      ['5 digits', '33010'],
      ['7 digits', '3301061'],
      ['letters', '33010a'],
      ['a number, not a string', 330106],
      ['blank', ''],
      ['padded', ' 330106'],
    ])('400 VALIDATION_FAILED when regionCode is %s; nothing written', async (_why, regionCode) => {
      const merchant = await createMerchant(t);
      const res = await t.http
        .post(`/v1/merchants/${merchant.id}/stores`)
        .set(admin)
        .send({ name: 's', address: 'a', regionCode, paymentAccounts: [] })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('regionCode');
      expect(
        await count('SELECT count(*) AS n FROM stores WHERE merchant_id = $1', [merchant.id]),
      ).toBe(0);
    });

    it('400 VALIDATION_FAILED on an unknown field, also inside a payment account', async () => {
      const merchant = await createMerchant(t);
      const base = { name: 's', address: 'a', regionCode: '330106' };
      const top = await t.http
        .post(`/v1/merchants/${merchant.id}/stores`)
        .set(admin)
        .send({ ...base, paymentAccounts: [], floor: 3 })
        .expect(400);
      expect(top.body.code).toBe('VALIDATION_FAILED');
      const nested = await t.http
        .post(`/v1/merchants/${merchant.id}/stores`)
        .set(admin)
        .send({
          ...base,
          paymentAccounts: [{ provider: 'alipay', accountId: uniqueAccount(), note: 'x' }],
        })
        .expect(400);
      expect(nested.body.code).toBe('VALIDATION_FAILED');
      expect(
        await count('SELECT count(*) AS n FROM stores WHERE merchant_id = $1', [merchant.id]),
      ).toBe(0);
    });

    it('409 PAYMENT_ACCOUNT_TAKEN when an account belongs to another store; the refused store is not written', async () => {
      const owner = await createMerchantWithStore(t);
      const taken = owner.account('alipay');
      const other = await createMerchant(t);
      const storesBefore = await count('SELECT count(*) AS n FROM stores', []);
      const fresh = uniqueAccount('16');
      const res = await t.http
        .post(`/v1/merchants/${other.id}/stores`)
        .set(admin)
        .send({
          name: 'Thief',
          address: 'Elsewhere',
          regionCode: '330106',
          // The free account first: it must be rolled back with the store.
          paymentAccounts: [
            { provider: 'wechatpay', accountId: fresh },
            { provider: 'alipay', accountId: taken },
          ],
        })
        .expect(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 409, code: 'PAYMENT_ACCOUNT_TAKEN' });

      expect(
        await count('SELECT count(*) AS n FROM stores WHERE merchant_id = $1', [other.id]),
      ).toBe(0);
      expect(await count("SELECT count(*) AS n FROM stores WHERE name = 'Thief'", [])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM stores', [])).toBeGreaterThanOrEqual(
        storesBefore,
      );
      expect(
        await count('SELECT count(*) AS n FROM payment_accounts WHERE account_id = $1', [fresh]),
      ).toBe(0);
      const still = await t.db.query(
        "SELECT store_id FROM payment_accounts WHERE provider = 'alipay' AND account_id = $1",
        [taken],
      );
      expect(still).toEqual([{ store_id: owner.store.id }]);
    });

    it('409 PAYMENT_ACCOUNT_TAKEN also for another store of the same merchant', async () => {
      const { merchant, store, account } = await createMerchantWithStore(t);
      const res = await t.http
        .post(`/v1/merchants/${merchant.id}/stores`)
        .set(admin)
        .send({
          name: 'Second branch',
          address: 'b',
          regionCode: '330106',
          paymentAccounts: [{ provider: 'wechatpay', accountId: account('wechatpay') }],
        })
        .expect(409);
      expect(res.body.code).toBe('PAYMENT_ACCOUNT_TAKEN');
      const stores = await t.db.query('SELECT id FROM stores WHERE merchant_id = $1', [
        merchant.id,
      ]);
      expect(stores).toEqual([{ id: store.id }]);
    });

    it('the same account id under another provider is a different account', async () => {
      const { merchant, account } = await createMerchantWithStore(t);
      const res = await createStore(t, merchant.id, {
        paymentAccounts: [{ provider: 'other-pos', accountId: account('alipay') }],
      });
      expect(res.paymentAccounts).toEqual([
        { provider: 'other-pos', accountId: account('alipay') },
      ]);
    });

    it('400 when one request lists the same account twice; nothing written', async () => {
      const merchant = await createMerchant(t);
      const acct = uniqueAccount();
      const res = await t.http
        .post(`/v1/merchants/${merchant.id}/stores`)
        .set(admin)
        .send({
          name: 's',
          address: 'a',
          regionCode: '330106',
          paymentAccounts: [
            { provider: 'alipay', accountId: acct },
            { provider: 'alipay', accountId: acct },
          ],
        })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(
        await count('SELECT count(*) AS n FROM stores WHERE merchant_id = $1', [merchant.id]),
      ).toBe(0);
    });

    it('404 NOT_FOUND for an unknown merchant id; nothing written', async () => {
      const ghost = randomUUID();
      const res = await t.http
        .post(`/v1/merchants/${ghost}/stores`)
        .set(admin)
        .send({ name: 's', address: 'a', regionCode: '330106', paymentAccounts: [] })
        .expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      expect(await count('SELECT count(*) AS n FROM stores WHERE merchant_id = $1', [ghost])).toBe(
        0,
      );
    });

    it.each(['not-a-uuid', '123', "x'; DROP TABLE stores; --"])(
      '404 NOT_FOUND for a non-uuid merchant id (%s), never 500',
      async (id) => {
        const res = await t.http
          .post(`/v1/merchants/${encodeURIComponent(id)}/stores`)
          .set(admin)
          .send({ name: 's', address: 'a', regionCode: '330106', paymentAccounts: [] })
          .expect(404);
        expect(res.body.code).toBe('NOT_FOUND');
      },
    );

    it('403 for a non-admin, 401 without a token', async () => {
      const merchant = await createMerchant(t);
      const body = { name: 's', address: 'a', regionCode: '330106', paymentAccounts: [] };
      await t.http
        .post(`/v1/merchants/${merchant.id}/stores`)
        .set(bearer(t.token({ role: 'merchant', merchantId: merchant.id })))
        .send(body)
        .expect(403);
      await t.http.post(`/v1/merchants/${merchant.id}/stores`).send(body).expect(401);
      expect(
        await count('SELECT count(*) AS n FROM stores WHERE merchant_id = $1', [merchant.id]),
      ).toBe(0);
    });
  });

  describe('POST /v1/offices', () => {
    it('201 with region-code prefixes (deduplicated, sorted) and kind regulator by default', async () => {
      const res = await t.http
        .post('/v1/offices')
        .set(admin)
        .send({ name: '杭州市西湖区市场监督管理局', regionCodes: ['330106', '3301', '33', '3301'] })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: '杭州市西湖区市场监督管理局',
        kind: 'regulator',
        regionCodes: ['33', '3301', '330106'],
        regionNames: ['浙江省', '杭州市', '西湖区'],
        ruleSet: 'cn-12315',
        createdAt: expect.any(String),
      });
      const rows = await t.db.query(
        'SELECT prefix FROM office_regions WHERE office_id = $1 ORDER BY prefix',
        [res.body.id],
      );
      expect(rows.map((r: { prefix: string }) => r.prefix)).toEqual(['33', '3301', '330106']);
      const office = await t.db.query('SELECT kind FROM offices WHERE id = $1', [res.body.id]);
      expect(office).toEqual([{ kind: 'regulator' }]);

      const got = await t.http.get(`/v1/offices/${res.body.id}`).set(admin).expect(200);
      expect(got.body).toEqual(res.body);
    });

    it('kind partner is accepted', async () => {
      const res = await t.http
        .post('/v1/offices')
        .set(admin)
        .send({ name: 'Consumer association', regionCodes: ['3'], kind: 'partner' })
        .expect(201);
      expect(res.body.kind).toBe('partner');
    });

    it.each([
      ['7 digits', ['3301061']],
      ['letters', ['33a']],
      ['an empty prefix', ['']],
      ['no prefixes', []],
      ['a number', [3301]],
      ['not an array', '3301'],
    ])(
      '400 VALIDATION_FAILED when regionCodes has %s; nothing written',
      async (_why, regionCodes) => {
        const name = `Bad office ${randomUUID()}`;
        const res = await t.http
          .post('/v1/offices')
          .set(admin)
          .send({ name, regionCodes })
          .expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(await count('SELECT count(*) AS n FROM offices WHERE name = $1', [name])).toBe(0);
      },
    );

    it('400 for an unknown kind or field; 403 for a non-admin; 401 without a token', async () => {
      await t.http
        .post('/v1/offices')
        .set(admin)
        .send({ name: 'x', regionCodes: ['33'], kind: 'court' })
        .expect(400);
      await t.http
        .post('/v1/offices')
        .set(admin)
        .send({ name: 'x', regionCodes: ['33'], phone: '110' })
        .expect(400);
      await t.http
        .post('/v1/offices')
        .set(bearer(t.token({ role: 'regulator', officeId: randomUUID() })))
        .send({ name: 'x', regionCodes: ['33'] })
        .expect(403);
      await t.http
        .post('/v1/offices')
        .send({ name: 'x', regionCodes: ['33'] })
        .expect(401);
    });

    it('GET /v1/offices/:id: unknown or non-uuid → 404', async () => {
      await t.http.get(`/v1/offices/${randomUUID()}`).set(admin).expect(404);
      await t.http.get('/v1/offices/nope').set(admin).expect(404);
    });
  });

  describe('lists with cursor pagination', () => {
    it("walks a merchant's stores with limit=2, oldest first, nextCursor null at the end", async () => {
      const merchant = await createMerchant(t);
      const created: string[] = [];
      for (let i = 0; i < 5; i++) created.push((await createStore(t, merchant.id)).id);
      const { pages, items } = await walk<{ id: string; paymentAccounts: unknown[] }>(
        `/v1/merchants/${merchant.id}/stores`,
        admin,
        2,
      );
      expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
      expect(pages.map((p) => p.nextCursor === null)).toEqual([false, false, true]);
      expect(items.map((s) => s.id)).toEqual(created);
      // Relations are loaded per page item, not cut short by the limit.
      for (const s of items) expect(s.paymentAccounts).toHaveLength(3);
    });

    it('an exact multiple of the limit ends with nextCursor null, not an empty page', async () => {
      const merchant = await createMerchant(t);
      for (let i = 0; i < 4; i++) await createStore(t, merchant.id);
      const { pages } = await walk(`/v1/merchants/${merchant.id}/stores`, admin, 2);
      expect(pages.map((p) => p.items.length)).toEqual([2, 2]);
      expect(pages[1].nextCursor).toBeNull();
    });

    it('is stable when rows are inserted between pages: no item twice, none skipped', async () => {
      const merchant = await createMerchant(t);
      const created: string[] = [];
      for (let i = 0; i < 3; i++) created.push((await createStore(t, merchant.id)).id);
      const { items } = await walk<{ id: string }>(
        `/v1/merchants/${merchant.id}/stores`,
        admin,
        2,
        async () => {
          created.push((await createStore(t, merchant.id)).id);
          created.push((await createStore(t, merchant.id)).id);
        },
      );
      expect(items.map((s) => s.id)).toEqual(created);
    });

    it('default limit is 20', async () => {
      const merchant = await createMerchant(t);
      for (let i = 0; i < 21; i++) {
        await createStore(t, merchant.id, { paymentAccounts: [] });
      }
      const res = await t.http.get(`/v1/merchants/${merchant.id}/stores`).set(admin).expect(200);
      expect(res.body.items).toHaveLength(20);
      expect(res.body.nextCursor).toEqual(expect.any(String));
      const rest = await t.http
        .get(`/v1/merchants/${merchant.id}/stores`)
        .query({ cursor: res.body.nextCursor })
        .set(admin)
        .expect(200);
      expect(rest.body.items).toHaveLength(1);
      expect(rest.body.nextCursor).toBeNull();
    });

    it('walks merchants with limit=2 (admin and regulator): every one once, oldest first, stable across inserts', async () => {
      const mine = [(await createMerchant(t)).id, (await createMerchant(t)).id];
      let late = '';
      const { items } = await walk<{ id: string; createdAt: string }>(
        '/v1/merchants',
        bearer(t.token({ role: 'regulator', officeId: randomUUID() })),
        2,
        async () => {
          late = (await createMerchant(t)).id;
        },
      );
      const ids = items.map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expect.arrayContaining([...mine, late]));
      expect(ids.indexOf(mine[0])).toBeLessThan(ids.indexOf(mine[1]));
      expect(ids.indexOf(mine[1])).toBeLessThan(ids.indexOf(late));
      for (let i = 1; i < items.length; i++) {
        const [a, b] = [items[i - 1], items[i]];
        const order = Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : 1);
        expect(order).toBeLessThan(0);
      }
    });

    it('walks offices with limit=2 with their prefixes', async () => {
      const made: string[] = [];
      for (const codes of [['11'], ['3301', '330106'], ['44']]) {
        const res = await t.http
          .post('/v1/offices')
          .set(admin)
          .send({ name: 'Office', regionCodes: codes })
          .expect(201);
        made.push(res.body.id);
      }
      const { items } = await walk<{ id: string; regionCodes: string[] }>('/v1/offices', admin, 2);
      const ids = items.map((o) => o.id);
      expect(new Set(ids).size).toBe(ids.length);
      const mine = items.filter((o) => made.includes(o.id));
      expect(mine.map((o) => o.id)).toEqual(made);
      expect(mine.map((o) => o.regionCodes)).toEqual([['11'], ['3301', '330106'], ['44']]);
    });

    let listMerchantId = '';
    beforeAll(async () => {
      listMerchantId = (await createMerchant(t)).id;
    });
    const lists = () => ['/v1/merchants', '/v1/offices', `/v1/merchants/${listMerchantId}/stores`];

    it.each([
      ['limit=0', { limit: '0' }],
      ['limit=101', { limit: '101' }],
      ['limit=-1', { limit: '-1' }],
      ['limit=abc', { limit: 'abc' }],
      ['limit=1.5', { limit: '1.5' }],
      ['a cursor that is not base64 JSON', { cursor: 'not-a-cursor' }],
      ['a cursor of the wrong arity', { cursor: cursorOf(['2026-01-01T00:00:00.000Z']) }],
      ['a cursor with a bad timestamp', { cursor: cursorOf(['yesterday', randomUUID()]) }],
      ['a cursor with a bad id', { cursor: cursorOf(['2026-01-01T00:00:00.000Z', 'x']) }],
      ['a cursor of objects', { cursor: cursorOf([{}, []]) }],
      ['an unknown query parameter', { sort: 'name' }],
    ])('400 VALIDATION_FAILED for %s, on every list', async (_why, query) => {
      for (const path of lists()) {
        const res = await t.http.get(path).query(query).set(admin);
        expect({ path, status: res.status, code: res.body.code }).toEqual({
          path,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    });

    it('limit=1 and limit=100 are accepted', async () => {
      for (const limit of ['1', '100']) {
        for (const path of lists()) {
          await t.http.get(path).query({ limit }).set(admin).expect(200);
        }
      }
    });
  });

  describe('GET /v1/merchants/:id and roles', () => {
    it('admin and regulator read any merchant', async () => {
      const m = await createMerchant(t, { name: 'Readable' });
      const a = await t.http.get(`/v1/merchants/${m.id}`).set(admin).expect(200);
      expect(a.body).toMatchObject({ id: m.id, name: 'Readable', creditCode: m.creditCode });
      await t.http
        .get(`/v1/merchants/${m.id}`)
        .set(bearer(t.token({ role: 'regulator', officeId: randomUUID() })))
        .expect(200);
    });

    it("merchant staff read their own merchant and stores; another merchant's → 404", async () => {
      const mine = await createMerchantWithStore(t);
      const other = await createMerchantWithStore(t);
      const staff = bearer(t.token({ role: 'merchant', merchantId: mine.merchant.id }));
      const own = await t.http.get(`/v1/merchants/${mine.merchant.id}`).set(staff).expect(200);
      expect(own.body.id).toBe(mine.merchant.id);
      const stores = await t.http
        .get(`/v1/merchants/${mine.merchant.id}/stores`)
        .set(staff)
        .expect(200);
      expect(stores.body.items.map((s: { id: string }) => s.id)).toEqual([mine.store.id]);

      const res = await t.http.get(`/v1/merchants/${other.merchant.id}`).set(staff).expect(404);
      expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      expect(JSON.stringify(res.body)).not.toContain(other.merchant.creditCode);
      await t.http.get(`/v1/merchants/${other.merchant.id}/stores`).set(staff).expect(404);
    });

    it('unknown or non-uuid id → 404; consumer → 403; no token → 401', async () => {
      await t.http.get(`/v1/merchants/${randomUUID()}`).set(admin).expect(404);
      await t.http.get('/v1/merchants/abc').set(admin).expect(404);
      await t.http.get(`/v1/merchants/${randomUUID()}/stores`).set(admin).expect(404);
      const m = await createMerchant(t);
      await t.http
        .get(`/v1/merchants/${m.id}`)
        .set(bearer(t.token({ role: 'consumer', sub: 'alipay:1' })))
        .expect(403);
      await t.http.get(`/v1/merchants/${m.id}`).expect(401);
    });

    it('merchant staff may not list all merchants or offices (403)', async () => {
      const staff = bearer(t.token({ role: 'merchant', merchantId: randomUUID() }));
      await t.http.get('/v1/merchants').set(staff).expect(403);
      await t.http.get('/v1/offices').set(staff).expect(403);
    });
  });
});
