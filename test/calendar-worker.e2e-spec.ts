/*
 * A year's notice loaded through the API is applied by real worker processes: the
 * `deadline.rebase` job recomputes every running deadline that was counted on the estimate, and
 * with two workers each ticket still gets exactly one `deadline_changed` event. Uses the year 2030
 * (no other suite loads it) and region 8106xx (this suite's own). The tickets' bases are set by
 * SQL to a mediation started on Thu 20 Dec 2029: the API's clock is not moved here.
 */
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, ticketIn } from './factories/complaint.factory';
import { spawnWorker, waitFor } from './helpers/worker-process';

const FROM = '2029-12-20T02:00:00.000Z';
const ESTIMATED = '2030-01-04T15:59:59.999Z'; // 1 Jan off only: Dec 21–31 (7), Jan 2–4 (10)
const OFFICIAL = '2030-01-07T15:59:59.999Z'; // 1–3 Jan off, Sat 5 Jan worked: Jan 4, 5, 7

describe('worker: a loaded notice recomputes deadlines, once each, with two workers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000' });
  });
  afterAll(() => t.close());

  it('PUT /v1/calendar/2030 → the workers move every estimated 2030 deadline with one event', async () => {
    const office = await createOffice(t, ['8106'], '测试局六');
    const regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
    const shop = await createShop(t, '810601');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await ticketIn(t, shop, 'mediating', { regulator })).id);
    const basis = {
      mediationEndBy: {
        basis: 'estimated',
        calendarVersion: 0,
        years: { 2029: 0, 2030: 0 },
        from: FROM,
        workdays: 10,
        hours: 0,
        ruleSet: 'cn-12315',
      },
    };
    await t.db.query(
      `UPDATE complaints SET mediation_end_by = $2, deadline_basis = $3::jsonb WHERE id = ANY($1::uuid[])`,
      [ids, ESTIMATED, JSON.stringify(basis)],
    );

    const workers = await Promise.all([
      spawnWorker({ SWEEP_INTERVAL: '1h' }),
      spawnWorker({ SWEEP_INTERVAL: '1h' }),
    ]);
    try {
      const put = await t.http
        .put('/v1/calendar/2030')
        .set(bearer(t.token({ role: 'admin' })))
        .send({
          notice: {
            title: '国务院办公厅关于2030年部分节假日安排的通知（测试）',
            date: '2029-11-10',
          },
          holidays: ['2030-01-01', '2030-01-02', '2030-01-03'],
          workdays: ['2030-01-05'],
        });
      expect(put.status).toBe(200);
      const moved = await waitFor(
        async () =>
          (
            await t.db.query(
              `SELECT count(*)::int AS n FROM complaints WHERE id = ANY($1::uuid[]) AND mediation_end_by = $2`,
              [ids, OFFICIAL],
            )
          )[0].n as number,
        (n) => n === ids.length,
        30_000,
      );
      expect(moved).toBe(ids.length);
      const events: { complaint_id: string; data: Record<string, unknown> }[] = await t.db.query(
        `SELECT complaint_id, data FROM complaint_events WHERE complaint_id = ANY($1::uuid[]) AND type = 'deadline_changed'`,
        [ids],
      );
      expect(events).toHaveLength(ids.length);
      expect(new Set(events.map((e) => e.complaint_id)).size).toBe(ids.length);
      for (const e of events) {
        expect(e.data).toMatchObject({
          field: 'mediationEndBy',
          from: ESTIMATED,
          to: OFFICIAL,
          calendarVersion: 1,
          basis: 'estimated', // 2029 is still an estimate
        });
      }
      const [row] = await t.db.query('SELECT deadline_basis FROM complaints WHERE id = $1', [
        ids[0],
      ]);
      expect(row.deadline_basis.mediationEndBy.years).toEqual({ 2029: 0, 2030: 1 });
    } finally {
      const logs = workers.map((w) => w.log());
      await Promise.all(workers.map((w) => w.stop()));
      if (process.env.DEBUG_WORKER) console.log(logs.join('\n----\n'));
    }
  }, 180_000);
});
