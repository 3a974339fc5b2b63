/*
 * The statistics lists that name merchants read the names through the directory's narrow reads
 * (MerchantReads), not by joining its table: the same answer as the join gave.
 */
import { randomUUID } from 'node:crypto';
import { bearer, startTestApp } from './helpers/test-app';
import type { TestApp } from './helpers/test-app';
import { createMerchant } from './factories/directory.factory';

describe('repeat offenders and credit through the directory reads', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ REPEAT_OFFENDER_MIN_ESCALATIONS: '10' });
  });
  const written: string[] = [];
  // The rows written here by hand are not in the region rollups: leave the database as found
  // (another suite in this Jest worker compares the two).
  afterAll(async () => {
    await t.db.query('DELETE FROM stats_daily WHERE merchant_id = ANY($1)', [written]);
    await t.close();
  });

  /** Today's rollup row of a merchant (Shanghai day), as the stats drain would leave it. */
  const rollup = (merchantId: string, escalated: number) =>
    written.push(merchantId) &&
    t.db.query(
      `INSERT INTO stats_daily (day, region_code, merchant_id, opened, escalated_no_response)
       VALUES ((now() AT TIME ZONE 'Asia/Shanghai')::date, '330106', $1, $2, $2)`,
      [merchantId, escalated],
    );

  it('lists merchants over the threshold with their names, most escalations first', async () => {
    const worse = await createMerchant(t, { name: '西湖茶庄' });
    const bad = await createMerchant(t, { name: 'Lakeside Tea' });
    const fine = await createMerchant(t, { name: 'Good Tea' });
    const gone = randomUUID(); // a rollup without a merchant (none exists: a join left it out)
    await rollup(worse.id, 15);
    await rollup(bad.id, 12);
    await rollup(fine.id, 3);
    await rollup(gone, 40);
    const res = await t.http
      .get('/v1/stats/repeat-offenders')
      .set(bearer(t.token({ role: 'admin' })))
      .expect(200);
    const mine = res.body.items.filter((i: { merchantId: string }) =>
      [worse.id, bad.id, fine.id, gone].includes(i.merchantId),
    );
    expect(mine.map((i: Record<string, unknown>) => [i.merchantId, i.name, i.escalations])).toEqual(
      [
        [worse.id, '西湖茶庄', 15],
        [bad.id, 'Lakeside Tea', 12],
      ],
    );
  });

  it('credit: a known merchant has a score, an unknown one is 404', async () => {
    const m = await createMerchant(t);
    const ok = await t.http.get(`/v1/merchants/${m.id}/credit`).expect(200);
    expect(ok.body.merchantId).toBe(m.id);
    const missing = await t.http.get(`/v1/merchants/${randomUUID()}/credit`).expect(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });
});
