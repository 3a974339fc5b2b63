/*
 * Issue 15: the working-day calendar as versioned rows, rule sets, deadline bases, the
 * recomputation after a notice is loaded, and extensions. Time is a FakeClock given to the app
 * (its CLOCK), never the wall clock: each test sets the instant its escalations happen at.
 * Region codes 8101xx/8201xx are this suite's own (no other suite routes there). The one test
 * that loads 2027 takes it out again, so the tests that count on the 2027 estimate pass in any
 * order (and the suites after this one in its Jest worker see no made-up notice).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { RegulatorUseCase } from '../libs/complaints/src/use-cases/regulator';
import { CalendarService } from '../libs/complaints/src/calendar/calendar.service';
import { backfillDeadlineBases } from '../migrations/1764700400000-CalendarAndRuleSets';
import { bearer, metricsAuth, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, ticketIn } from './factories/complaint.factory';
import { FakeClock } from './helpers/fake-clock';

/** A hypothetical 2027 notice (the real one is not out yet): Spring Festival 5–13 Feb, Sat 20 Feb worked. */
const NOTICE_2027 = {
  notice: { title: '国务院办公厅关于2027年部分节假日安排的通知（测试）', date: '2026-11-20' },
  holidays: [
    '2027-01-01',
    '2027-01-02',
    '2027-01-03',
    '2027-02-05',
    '2027-02-06',
    '2027-02-07',
    '2027-02-08',
    '2027-02-09',
    '2027-02-10',
    '2027-02-11',
    '2027-02-12',
    '2027-02-13',
    '2027-04-03',
    '2027-04-04',
    '2027-04-05',
    '2027-05-01',
    '2027-05-02',
    '2027-05-03',
    '2027-05-04',
    '2027-05-05',
    '2027-06-09',
    '2027-09-15',
    '2027-10-01',
    '2027-10-02',
    '2027-10-03',
    '2027-10-04',
    '2027-10-05',
    '2027-10-06',
    '2027-10-07',
  ],
  workdays: ['2027-02-20', '2027-10-09'],
};

describe('calendar, rule sets, deadline bases and extensions (issue 15)', () => {
  let t: TestApp;
  const clock = new FakeClock();
  let regulatorUseCase: RegulatorUseCase;
  const admin = () => bearer(t.token({ role: 'admin' }));
  const setNow = (iso: string) => clock.set(new Date(iso));

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000' }, { clock });
    regulatorUseCase = t.app.get(RegulatorUseCase, { strict: false });
  });
  afterAll(() => t.close());

  describe('GET /v1/calendar/:year', () => {
    it('2027 is estimated, with the Spring Festival from the lunar calendar (eve 5 Feb, day 1 Sat 6 Feb)', async () => {
      const res = await t.http.get('/v1/calendar/2027');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ year: 2027, source: 'estimated', version: 0, notice: null });
      expect(res.body.workdays).toEqual([]);
      expect(res.body.holidays).toEqual(
        expect.arrayContaining([
          '2027-01-01',
          '2027-02-05',
          '2027-02-06',
          '2027-02-07',
          '2027-02-08',
        ]),
      );
      expect(res.body.holidays).toEqual(
        expect.arrayContaining(['2027-04-05', '2027-06-09', '2027-09-15']),
      );
    });

    it('2026 is official, seeded from chinese-days, with the notice of calendar/2026.json', async () => {
      const res = await t.http.get('/v1/calendar/2026');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ year: 2026, source: 'official', version: 1 });
      expect(res.body.notice).toEqual({
        title: '国务院办公厅关于2026年部分节假日安排的通知',
        date: '2025-11-04',
      });
      expect(res.body.workdays).toEqual([
        '2026-01-04',
        '2026-02-14',
        '2026-02-28',
        '2026-05-09',
        '2026-09-20',
        '2026-10-10',
      ]);
    });

    it('refuses a year that is not four digits', async () => {
      expect((await t.http.get('/v1/calendar/20x7')).status).toBe(400);
    });
  });

  describe('PUT /v1/calendar/:year validation', () => {
    it('is for admins only', async () => {
      const res = await t.http
        .put('/v1/calendar/2031')
        .set(
          bearer(t.token({ role: 'regulator', officeId: '00000000-0000-0000-0000-000000000000' })),
        )
        .send(NOTICE_2027);
      expect(res.status).toBe(403);
    });

    it('refuses days of another year, weekday 调休 days and a day both off and worked (400, nothing stored)', async () => {
      const bad = await t.http
        .put('/v1/calendar/2031')
        .set(admin())
        .send({
          notice: { title: 'x', date: '2030-11-01' },
          holidays: ['2031-01-01', '2030-12-31'],
          workdays: ['2031-01-06', '2031-01-01'],
        });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
      const fields = (bad.body.errors as { field: string }[]).map((e) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['holidays[1]', 'workdays[0]', 'workdays']));
      expect((await t.http.get('/v1/calendar/2031')).body.source).toBe('estimated');
    });
  });

  describe('GET /v1/rules and offices', () => {
    it('lists the national set (default, configured limits) and the platform set (24 hours)', async () => {
      const res = await t.http.get('/v1/rules');
      expect(res.status).toBe(200);
      const byId = new Map((res.body.items as { id: string }[]).map((s) => [s.id, s]));
      expect(byId.get('cn-12315')).toMatchObject({
        acceptWorkdays: 7,
        mediationWorkdays: 45,
        default: true,
      });
      expect(byId.get('platform-live-commerce')).toMatchObject({
        acceptHours: 24,
        investigationWorkdays: 7,
        mediationWorkdays: 15,
        default: false,
      });
    });

    it('an office gets RULE_SET by default and refuses an unknown set (400)', async () => {
      const office = await createOffice(t, ['8109']);
      expect((office as unknown as { ruleSet: string }).ruleSet).toBe('cn-12315');
      const res = await t.http
        .post('/v1/offices')
        .set(admin())
        .send({ name: 'x', regionCodes: ['8108'], ruleSet: 'made-up' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).toMatch(/ruleSet must be one of/);
    });
  });

  it('escalated on Wed 30 Sep 2026 (official data): acceptBy after the National Day week, Thu 15 Oct', async () => {
    await createOffice(t, ['8101'], '香港测试局');
    const shop = await createShop(t, '810101');
    setNow('2026-09-30T02:00:00Z');
    const ticket = await ticketIn(t, shop, 'escalated');
    expect(ticket.body).toMatchObject({
      status: 'escalated',
      ruleSet: 'cn-12315',
      acceptBy: '2026-10-15T15:59:59.999Z',
      deadlineBasis: { acceptBy: 'official' },
      extensions: [],
    });
  });

  it('platform set: a 24-hour acceptBy; the ticket keeps its set after the office changes set', async () => {
    const office = await createOffice(t, ['8201'], '澳门测试局');
    const set = await t.http
      .patch(`/v1/offices/${office.id}`)
      .set(admin())
      .send({ ruleSet: 'platform-live-commerce' });
    expect(set.status).toBe(200);
    expect(set.body.ruleSet).toBe('platform-live-commerce');
    const shop = await createShop(t, '820101');
    setNow('2026-11-06T03:00:00Z'); // a Friday: 24 clock hours run through the weekend
    const ticket = await ticketIn(t, shop, 'escalated');
    expect(ticket.body.ruleSet).toBe('platform-live-commerce');
    expect(ticket.body.acceptBy).toBe('2026-11-07T03:00:00.000Z');
    // Enforced in hours: overdue one second after the 24th hour, on a Saturday.
    const viewAt = async (iso: string) => {
      setNow(iso);
      return (await t.http.get(`/v1/complaints/${ticket.id}`).set(admin())).body;
    };
    expect((await viewAt('2026-11-07T02:59:59Z')).acceptanceOverdue).toBe(false);
    expect((await viewAt('2026-11-07T03:00:01Z')).acceptanceOverdue).toBe(true);

    // The office moves to the national set; the open ticket keeps the platform limits.
    const back = await t.http
      .patch(`/v1/offices/${office.id}`)
      .set(admin())
      .send({ ruleSet: 'cn-12315' });
    expect(back.status).toBe(200);
    const regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
    setNow('2026-11-09T02:00:00Z'); // Mon 9 Nov
    const acc = await t.http.post(`/v1/complaints/${ticket.id}/accept`).set(regulator);
    expect(acc.status).toBe(200);
    expect(acc.body.ruleSet).toBe('platform-live-commerce');
    // 15 working days (platform), not 45: Tue 10 Nov … Mon 30 Nov.
    expect(acc.body.mediationEndBy).toBe('2026-11-30T15:59:59.999Z');

    // A ticket escalated now goes by the national set.
    const later = await ticketIn(t, shop, 'escalated');
    expect(later.body.ruleSet).toBe('cn-12315');
    expect(later.body.acceptBy).toBe('2026-11-18T15:59:59.999Z'); // Mon 9 Nov + 7 working days

    // The worker's mediation time limit (its job and the sweep call this) is the platform's 15
    // working days: not due on the last day, terminated once it has passed.
    setNow('2026-11-30T15:59:59.000Z');
    expect(await regulatorUseCase.terminateMediationIfDue(ticket.id)).toBe(false);
    setNow('2026-11-30T16:00:00.000Z');
    expect(await regulatorUseCase.terminateMediationIfDue(ticket.id)).toBe(true);
    const ended = await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer);
    expect(ended.body.status).toBe('mediation_failed');
    expect(ended.body.mediationOutcome).toMatchObject({ outcome: 'failed', reason: 'time_limit' });
  });

  describe('extensions', () => {
    let office: { id: string };
    let regulator: { Authorization: string };
    beforeAll(async () => {
      office = await createOffice(t, ['8102'], '测试局二');
      regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
    });

    it('extends acceptBy once, within the set maximum, with a reason the consumer sees', async () => {
      const shop = await createShop(t, '810201');
      setNow('2026-11-02T02:00:00Z'); // Mon 2 Nov → acceptBy Wed 11 Nov
      const ticket = await ticketIn(t, shop, 'escalated');
      expect(ticket.body.acceptBy).toBe('2026-11-11T15:59:59.999Z');
      const url = `/v1/complaints/${ticket.id}/extend`;
      const reason = 'Waiting for the store inspection report.';

      const tooMany = await t.http
        .post(url)
        .set(regulator)
        .send({ deadline: 'acceptBy', workdays: 16, reason });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.code).toBe('VALIDATION_FAILED');
      const shortReason = await t.http
        .post(url)
        .set(regulator)
        .send({ deadline: 'acceptBy', workdays: 2, reason: 'short' });
      expect(shortReason.status).toBe(400);
      const wrongDeadline = await t.http
        .post(url)
        .set(regulator)
        .send({ deadline: 'mediationEndBy', workdays: 2, reason });
      expect(wrongDeadline.status).toBe(409);
      expect(wrongDeadline.body.code).toBe('INVALID_TRANSITION');
      const consumerTries = await t.http
        .post(url)
        .set(ticket.consumer)
        .send({ deadline: 'acceptBy', workdays: 2, reason });
      expect(consumerTries.status).toBe(403);

      const ok = await t.http
        .post(url)
        .set(regulator)
        .send({ deadline: 'acceptBy', workdays: 3, reason });
      expect(ok.status).toBe(200);
      expect(ok.body.acceptBy).toBe('2026-11-16T15:59:59.999Z'); // Wed 11 + 3 working days
      const again = await t.http
        .post(url)
        .set(regulator)
        .send({ deadline: 'acceptBy', workdays: 1, reason });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('EXTENSION_USED');

      const seen = await t.http.get(`/v1/complaints/${ticket.id}`).set(ticket.consumer);
      expect(seen.body.extensions).toEqual([
        { deadline: 'acceptBy', workdays: 3, reason, at: '2026-11-02T02:00:00.000Z' },
      ]);
      const events = await t.http.get(`/v1/complaints/${ticket.id}/events`).set(admin());
      const ext = (events.body.items as { type: string; data: Record<string, unknown> }[]).filter(
        (e) => e.type === 'deadline_extended',
      );
      expect(ext).toHaveLength(1);
      expect(ext[0].data).toMatchObject({
        deadline: 'acceptBy',
        workdays: 3,
        reason,
        to: '2026-11-16T15:59:59.999Z',
      });
      expect(
        (await t.http.get(`/v1/complaints/${ticket.id}/events/verify`).set(admin())).body.valid,
      ).toBe(true);
    });

    it('a transfer starts a fresh acceptance period, which the new office may extend once', async () => {
      const shop = await createShop(t, '810203');
      const other = await createOffice(t, ['8105'], '测试局五');
      const otherRegulator = bearer(t.token({ role: 'regulator', officeId: other.id }));
      setNow('2026-11-02T02:00:00Z');
      const ticket = await ticketIn(t, shop, 'escalated');
      const body = {
        deadline: 'acceptBy',
        workdays: 2,
        reason: 'Waiting for the inspection report.',
      };
      const url = `/v1/complaints/${ticket.id}/extend`;
      expect((await t.http.post(url).set(regulator).send(body)).status).toBe(200);
      setNow('2026-11-03T02:00:00Z'); // Tue 3 Nov
      const moved = await t.http
        .post(`/v1/complaints/${ticket.id}/transfer`)
        .set(regulator)
        .send({ officeId: other.id });
      expect(moved.status).toBe(200);
      expect(moved.body.acceptBy).toBe('2026-11-12T15:59:59.999Z'); // fresh: Tue 3 Nov + 7
      expect(moved.body.ruleSet).toBe('cn-12315');
      const ext = await t.http.post(url).set(otherRegulator).send(body);
      expect(ext.status).toBe(200);
      expect(ext.body.acceptBy).toBe('2026-11-16T15:59:59.999Z'); // + 2 working days
      expect((await t.http.post(url).set(otherRegulator).send(body)).body.code).toBe(
        'EXTENSION_USED',
      );
    });

    it("another office's regulator cannot extend (404)", async () => {
      const shop = await createShop(t, '810202');
      setNow('2026-11-02T02:00:00Z');
      const ticket = await ticketIn(t, shop, 'escalated');
      const stranger = bearer(
        t.token({ role: 'regulator', officeId: '00000000-0000-4000-8000-000000000001' }),
      );
      const res = await t.http
        .post(`/v1/complaints/${ticket.id}/extend`)
        .set(stranger)
        .send({ deadline: 'acceptBy', workdays: 2, reason: 'Waiting for the inspection report.' });
      expect(res.status).toBe(404);
    });
  });

  it('a deadline from before this release (old fixed-date fallback) gets a basis and is recomputed on the estimate', async () => {
    const office = await createOffice(t, ['8104'], '测试局四');
    const regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
    const shop = await createShop(t, '810401');
    setNow('2026-12-10T02:00:00Z');
    const tk = await ticketIn(t, shop, 'mediating', { regulator });
    // As the old code left it: no basis, and 45 working days counted on the fixed-date
    // fallback, which ran into the 2027 Spring Festival (Fri 12 Feb).
    await t.db.query(
      `UPDATE complaints SET deadline_basis = '{}'::jsonb, mediation_end_by = $2 WHERE id = $1`,
      [tk.id, '2027-02-12T15:59:59.999Z'],
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const data = require('chinese-days/dist/chinese-days.json');
    expect(await backfillDeadlineBases(t.db, data)).toBeGreaterThanOrEqual(1);
    const [row] = await t.db.query('SELECT deadline_basis FROM complaints WHERE id = $1', [tk.id]);
    expect(row.deadline_basis.mediationEndBy).toMatchObject({
      basis: 'estimated',
      workdays: 45,
      years: { 2026: 1, 2027: -1 },
      from: '2026-12-10T02:00:00.000Z',
    });

    setNow('2026-12-11T02:00:00Z');
    await regulatorUseCase.rebaseBatch(500);
    const view = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer);
    expect(view.body.mediationEndBy).toBe('2027-02-18T15:59:59.999Z');
    expect(view.body.deadlineBasis.mediationEndBy).toBe('estimated');
    const events = await t.http.get(`/v1/complaints/${tk.id}/events`).set(admin());
    const changed = (events.body.items as { type: string; data: Record<string, unknown> }[]).filter(
      (e) => e.type === 'deadline_changed',
    );
    expect(changed.map((e) => e.data)).toEqual([
      expect.objectContaining({
        field: 'mediationEndBy',
        from: '2027-02-12T15:59:59.999Z',
        to: '2027-02-18T15:59:59.999Z',
        calendarVersion: 0,
      }),
    ]);

    // The warnings: running deadlines on an estimate, and 2027 within 60 days without a notice.
    const metrics = await t.http.get('/metrics').set(metricsAuth());
    const estimated = /hejie_calendar_estimated_deadlines\{field="mediationEndBy"\} (\d+)/.exec(
      metrics.text,
    );
    expect(Number(estimated?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics.text).toMatch(/hejie_calendar_official_missing\{year="2027"\} 1/);
    // 60 days before deadlines need 2027: the longest limit is the national mediation, 45 + 15
    // working days (an extension). Counted from Fri 9 Oct 2026 it ends on Thu 31 Dec; from Sat
    // 10 Oct it reaches January 2027. So the warning starts 60 days before, on 11 Aug.
    const calendar = t.app.get(CalendarService, { strict: false });
    expect(await calendar.yearsWithoutOfficialData(new Date('2026-06-01T00:00:00Z'))).toEqual([]);
    expect(await calendar.yearsWithoutOfficialData(new Date('2026-08-10T00:00:00Z'))).toEqual([]);
    expect(await calendar.yearsWithoutOfficialData(new Date('2026-08-11T00:00:00Z'))).toEqual([
      2027,
    ]);
    expect(await calendar.yearsWithoutOfficialData(new Date('2027-03-01T00:00:00Z'))).toEqual([
      2027,
    ]);

    // The log line: once per year and process, again an hour later.
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const lines = () =>
        warn.mock.calls.map(([m]) => String(m)).filter((m) => m.startsWith('calendar:'));
      expect(await calendar.warnHorizon(new Date('2026-08-10T00:00:00Z'))).toEqual([]);
      expect(lines()).toEqual([]);
      expect(await calendar.warnHorizon(new Date('2026-08-11T00:00:00Z'))).toEqual([2027]);
      expect(await calendar.warnHorizon(new Date('2026-08-11T00:59:00Z'))).toEqual([2027]);
      expect(lines()).toEqual([
        expect.stringMatching(
          /deadlines counted within 60 days reach 2027, .*PUT \/v1\/calendar\/2027 or calendar\/2027\.json/,
        ),
      ]);
      await calendar.warnHorizon(new Date('2026-08-11T01:00:00Z'));
      expect(lines()).toHaveLength(2);
    } finally {
      warn.mockRestore();
    }
  });

  describe('a notice for 2027', () => {
    // Loaded by the test below, then taken out: the other tests count on the 2027 estimate.
    afterAll(async () => {
      await t.db.query('DELETE FROM calendar_versions WHERE year = 2027');
      await t.app.get(CalendarService, { strict: false }).snapshot(true);
    });

    it('PUT /v1/calendar/2027: open deadlines in 2027 move, each with one deadline_changed event, even with two workers', async () => {
      const office = await createOffice(t, ['8103'], '测试局三');
      const regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
      const shop = await createShop(t, '810301');
      setNow('2026-12-10T02:00:00Z'); // Thu 10 Dec 2026: 45 working days reach February 2027
      const tickets = await Promise.all(
        [1, 2, 3].map(() => ticketIn(t, shop, 'mediating', { regulator })),
      );
      for (const tk of tickets) {
        // Estimate: 5 Feb (eve) to 10 Feb off (8–10 Feb: day 3 and the make-up days) → Thu 18 Feb.
        expect(tk.body.mediationEndBy).toBe('2027-02-18T15:59:59.999Z');
        expect(tk.body.deadlineBasis).toEqual({
          acceptBy: 'official',
          mediationEndBy: 'estimated',
        });
      }

      // An appeal's reviewBy is a regulator deadline too: decided and appealed on Thu 24 Dec 2026,
      // 15 working days reach Fri 15 Jan 2027, counted on the 2027 estimate until the notice.
      setNow('2026-12-24T02:00:00Z');
      const appealed = await ticketIn(t, shop, 'escalated');
      await t.http
        .post(`/v1/complaints/${appealed.id}/decline`)
        .set(regulator)
        .send({ reason: 'no_clear_claim' })
        .expect(200);
      const appeal = await t.http
        .post(`/v1/complaints/${appealed.id}/appeal`)
        .set(appealed.consumer)
        .send({ reason: 'Please look again.' })
        .expect(200);
      expect(appeal.body.reviewBy).toBe('2027-01-15T15:59:59.999Z');
      expect(appeal.body.deadlineBasis.reviewBy).toBe('estimated');

      setNow('2026-12-11T02:00:00Z');
      const put = await t.http.put('/v1/calendar/2027').set(admin()).send(NOTICE_2027);
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ year: 2027, source: 'official', version: 1 });
      // The same notice again adds nothing.
      const same = await t.http.put('/v1/calendar/2027').set(admin()).send(NOTICE_2027);
      expect(same.body.version).toBe(1);

      // Two workers at once: each ticket is recomputed by exactly one of them.
      const [a, b] = await Promise.all([
        regulatorUseCase.rebaseBatch(500),
        regulatorUseCase.rebaseBatch(500),
      ]);
      expect(a.changed + b.changed).toBeGreaterThanOrEqual(tickets.length);
      expect((await regulatorUseCase.rebaseBatch(500)).changed).toBe(0);

      for (const tk of tickets) {
        const view = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer);
        // Official: 5–13 Feb off, Sat 20 Feb worked → 15–19 Feb (44), Sat 20 Feb (45).
        expect(view.body.mediationEndBy).toBe('2027-02-20T15:59:59.999Z');
        expect(view.body.deadlineBasis).toEqual({
          acceptBy: 'official',
          mediationEndBy: 'official',
        });
        const events = await t.http.get(`/v1/complaints/${tk.id}/events`).set(admin());
        const changed = (
          events.body.items as { type: string; data: Record<string, unknown> }[]
        ).filter((e) => e.type === 'deadline_changed');
        expect(changed).toHaveLength(1);
        expect(changed[0].data).toMatchObject({
          field: 'mediationEndBy',
          from: '2027-02-18T15:59:59.999Z',
          to: '2027-02-20T15:59:59.999Z',
          calendarVersion: 1,
        });
      }

      // The appeal's reviewBy now rests on the official 2027 arrangement (same day), recorded once.
      const review = await t.http.get(`/v1/complaints/${appealed.id}`).set(appealed.consumer);
      expect(review.body.status).toBe('appealed');
      expect(review.body.reviewBy).toBe('2027-01-15T15:59:59.999Z');
      expect(review.body.deadlineBasis.reviewBy).toBe('official');
      const reviewEvents = await t.http.get(`/v1/complaints/${appealed.id}/events`).set(admin());
      expect(
        (reviewEvents.body.items as { type: string; data: Record<string, unknown> }[]).filter(
          (e) => e.type === 'deadline_changed',
        ),
      ).toEqual([
        expect.objectContaining({
          data: expect.objectContaining({ field: 'reviewBy', calendarVersion: 1 }),
        }),
      ]);

      // A second version of 2027 (say, a correction making Sat 20 Feb a day off): recomputed again, once.
      const v2 = await t.http
        .put('/v1/calendar/2027')
        .set(admin())
        .send({ ...NOTICE_2027, workdays: ['2027-10-09'] });
      expect(v2.body.version).toBe(2);
      const versions = await t.http.get('/v1/calendar/2027/versions');
      expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
      expect(versions.body.items[1].loadedFrom).toBe('api:admin-user');
      expect((await t.http.get('/v1/calendar/2027')).body.version).toBe(2);
      await regulatorUseCase.rebaseBatch(500);
      const after = await t.http.get(`/v1/complaints/${tickets[0].id}`).set(tickets[0].consumer);
      expect(after.body.mediationEndBy).toBe('2027-02-22T15:59:59.999Z'); // Mon 22 Feb
    });
  });

  describe('a notice that would move deadlines into the past (2032)', () => {
    afterAll(async () => {
      await t.db.query('DELETE FROM calendar_versions WHERE year = 2032');
      await t.app.get(CalendarService, { strict: false }).snapshot(true);
    });

    it('none moves into the past: never before the end of today, nor before a deadline already missed', async () => {
      const office = await createOffice(t, ['8107'], '测试局七');
      const regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
      const shop = await createShop(t, '810701');
      setNow('2026-12-10T02:00:00Z');
      const [ahead, missed] = await Promise.all(
        [1, 2].map(() => ticketIn(t, shop, 'mediating', { regulator })),
      );
      // Both mediations as counted on the 2032 estimate: 10 working days from Mon 2 Feb 2032,
      // the Spring Festival (eve Tue 10 Feb, days 1–3 to Fri 13 Feb) off → Fri 20 Feb. The second
      // one's stored date is one that has already passed when the notice comes (Tue 17 Feb).
      const basis = {
        mediationEndBy: {
          basis: 'estimated',
          calendarVersion: 0,
          years: { 2032: 0 },
          from: '2032-02-02T02:00:00.000Z',
          workdays: 10,
          hours: 0,
          ruleSet: 'cn-12315',
        },
      };
      const store = (id: string, at: string) =>
        t.db.query(
          `UPDATE complaints SET mediation_end_by = $2, deadline_basis = $3::jsonb WHERE id = $1`,
          [id, at, JSON.stringify(basis)],
        );
      await store(ahead.id, '2032-02-20T15:59:59.999Z');
      await store(missed.id, '2032-02-17T15:59:59.999Z');

      // Wed 18 Feb 2032, 10:00 in Shanghai: a notice with no Spring Festival break (made up for
      // the test) puts the 10th working day on Mon 16 Feb, two days ago.
      setNow('2032-02-18T02:00:00Z');
      const put = await t.http
        .put('/v1/calendar/2032')
        .set(admin())
        .send({
          notice: {
            title: '国务院办公厅关于2032年部分节假日安排的通知（测试）',
            date: '2031-11-10',
          },
          holidays: ['2032-01-01'],
          workdays: [],
        });
      expect(put.status).toBe(200);
      expect((await regulatorUseCase.rebaseBatch(500)).changed).toBeGreaterThanOrEqual(2);

      const changedOf = async (id: string) => {
        const events = await t.http.get(`/v1/complaints/${id}/events`).set(admin());
        return (events.body.items as { type: string; data: Record<string, unknown> }[])
          .filter((e) => e.type === 'deadline_changed')
          .map((e) => e.data);
      };
      const aheadView = await t.http.get(`/v1/complaints/${ahead.id}`).set(ahead.consumer);
      expect(aheadView.body.mediationEndBy).toBe('2032-02-18T15:59:59.999Z'); // end of today
      expect(aheadView.body.deadlineBasis.mediationEndBy).toBe('official');
      expect(await changedOf(ahead.id)).toEqual([
        expect.objectContaining({
          field: 'mediationEndBy',
          from: '2032-02-20T15:59:59.999Z',
          to: '2032-02-18T15:59:59.999Z',
          calendarVersion: 1,
          clamped: true,
          computed: '2032-02-16T15:59:59.999Z',
        }),
      ]);
      const missedView = await t.http.get(`/v1/complaints/${missed.id}`).set(missed.consumer);
      expect(missedView.body.mediationEndBy).toBe('2032-02-17T15:59:59.999Z'); // not earlier
      expect(await changedOf(missed.id)).toEqual([
        expect.objectContaining({
          from: '2032-02-17T15:59:59.999Z',
          to: '2032-02-17T15:59:59.999Z',
          clamped: true,
        }),
      ]);
    });
  });

  describe('the appeal window on a loaded notice (2034)', () => {
    afterAll(async () => {
      await t.db.query('DELETE FROM calendar_versions WHERE year = 2034');
      await t.app.get(CalendarService, { strict: false }).snapshot(true);
    });

    it('the ticket shows the window the appeal is checked against (appealableUntil, the appeal action)', async () => {
      const office = await createOffice(t, ['8112'], '测试局十二');
      const regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
      const shop = await createShop(t, '811201');
      setNow('2026-12-10T02:00:00Z');
      const tk = await ticketIn(t, shop, 'escalated');
      setNow('2034-03-01T02:00:00Z'); // declined on Wed 1 Mar 2034
      await t.http
        .post(`/v1/complaints/${tk.id}/decline`)
        .set(regulator)
        .send({ reason: 'no_clear_claim' })
        .expect(200);
      const seen = async () =>
        (await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer)).body as {
          appealableUntil: string | null;
          actions: string[];
        };
      // On the estimate: 15 working days → Wed 22 Mar. Thu 23 Mar, 01:00 in Shanghai: closed.
      setNow('2034-03-22T17:00:00Z');
      expect(await seen()).toMatchObject({ appealableUntil: null });
      expect((await seen()).actions).not.toContain('appeal');

      // The notice gives Fri 10 Mar off (made up for the test): the window ends on Thu 23 Mar,
      // and the ticket says so, as the appeal itself is checked.
      const put = await t.http
        .put('/v1/calendar/2034')
        .set(admin())
        .send({
          notice: {
            title: '国务院办公厅关于2034年部分节假日安排的通知（测试）',
            date: '2033-11-10',
          },
          holidays: ['2034-01-01', '2034-03-10'],
          workdays: [],
        });
      expect(put.status).toBe(200);
      const open = await seen();
      expect(open.appealableUntil).toBe('2034-03-23T15:59:59.999Z');
      expect(open.actions).toContain('appeal');
      const list = await t.http.get('/v1/complaints?limit=100').set(tk.consumer);
      expect(list.body.items.find((x: { id: string }) => x.id === tk.id)).toMatchObject({
        appealableUntil: '2034-03-23T15:59:59.999Z',
      });
      await t.http
        .post(`/v1/complaints/${tk.id}/appeal`)
        .set(tk.consumer)
        .send({ reason: 'Please look again.' })
        .expect(200);
    });
  });

  it('at start-up: calendar/<year>.json files become official versions, and offices get RULE_SET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hejie-calendar-'));
    const file = {
      year: 2035,
      notice: { title: '国务院办公厅关于2035年部分节假日安排的通知（测试）', date: '2034-11-20' },
      holidays: ['2035-01-01', '2035-02-07', '2035-02-08'],
      workdays: ['2035-02-03'],
    };
    writeFileSync(join(dir, '2035.json'), JSON.stringify(file));
    const boot = () =>
      startTestApp({
        RATE_LIMIT: '100000',
        CALENDAR_DIR: dir,
        RULE_SET: 'platform-live-commerce',
      });
    try {
      const other = await boot();
      try {
        const year = await other.http.get('/v1/calendar/2035');
        expect(year.body).toMatchObject({
          year: 2035,
          source: 'official',
          version: 1,
          notice: file.notice,
          holidays: file.holidays,
          workdays: file.workdays,
        });
        const versions = await other.http.get('/v1/calendar/2035/versions');
        expect(versions.body.items.map((v: { loadedFrom: string }) => v.loadedFrom)).toEqual([
          'file:2035.json',
        ]);
        // RULE_SET names the set of offices that name none, and GET /v1/rules says so.
        const office = await createOffice(other, ['8111'], '测试局十一');
        expect((office as unknown as { ruleSet: string }).ruleSet).toBe('platform-live-commerce');
        const rules = await other.http.get('/v1/rules');
        expect(
          (rules.body.items as { id: string; default: boolean }[]).filter((s) => s.default),
        ).toEqual([expect.objectContaining({ id: 'platform-live-commerce' })]);
      } finally {
        await other.close();
      }
      // A restart with the same file adds nothing.
      const again = await boot();
      await again.close();
      const rows = await t.db.query('SELECT version FROM calendar_versions WHERE year = 2035');
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      delete process.env.CALENDAR_DIR;
      delete process.env.RULE_SET;
      rmSync(dir, { recursive: true, force: true });
      await t.db.query('DELETE FROM calendar_versions WHERE year = 2035');
    }
  });
});
