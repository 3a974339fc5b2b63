/*
 * Appeals (申诉), API.md "Appeals": the consumer's one appeal of a declined / mediation_failed
 * decision within the rule set's window, decided by another officer of the office (or an admin).
 * Region codes of this suite: Qinghai (6301, 6302, 6323); its shops are in districts no other
 * suite gives an office of its own (630105, 630121), so routing stays here when suites share a
 * database (--runInBand).
 */
import { RegulatorUseCase } from '../libs/complaints/src/use-cases/regulator';
import { StatsService } from '../libs/complaints/src/stats/stats.service';
import { bearer, metricsAuth, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, Shop, ticketIn } from './factories/complaint.factory';

describe('appeals', () => {
  let t: TestApp;
  let shop: Shop;
  let officeId: string;
  const officer = (sub: string) => bearer(t.token({ role: 'regulator', sub, officeId }));
  const admin = () => bearer(t.token({ role: 'admin', sub: 'admin-appeals' }));

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT: '100000' });
    officeId = (await createOffice(t, ['6301'], '西宁市市场监督管理局')).id;
    shop = await createShop(t, '630105');
  });
  afterAll(() => t.close());

  const declined = async (by = 'officer-a') => {
    const tk = await ticketIn(t, shop, 'escalated');
    const r = await t.http
      .post(`/v1/complaints/${tk.id}/decline`)
      .set(officer(by))
      .send({ reason: 'no_clear_claim' });
    expect(r.status).toBe(200);
    return tk;
  };
  const mediationFailed = async (by = 'officer-a') => {
    const tk = await ticketIn(t, shop, 'mediating', { regulator: officer(by) });
    const r = await t.http
      .post(`/v1/complaints/${tk.id}/mediation`)
      .set(officer(by))
      .send({ outcome: 'failed', note: 'The merchant refused every proposal.' });
    expect(r.status).toBe(200);
    return tk;
  };
  const events = async (id: string) =>
    (await t.http.get(`/v1/complaints/${id}/events`).set(admin())).body.items as {
      type: string;
      actor: { role: string; id: string };
      data: Record<string, unknown>;
    }[];
  const row = async (id: string) =>
    (await t.db.query('SELECT * FROM complaints WHERE id = $1', [id]))[0];

  it('declined → appealed (reviewBy) → the deciding officer is refused → another officer overturns → escalated again', async () => {
    const tk = await declined('officer-a');
    const before = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer);
    expect(before.body.appealableUntil).not.toBeNull();
    expect((await row(tk.id)).decided_by).toBe('officer-a');

    const ap = await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: '我补充了聊天记录，商家承诺过退货。' });
    expect(ap.status).toBe(200);
    expect(ap.body).toMatchObject({
      status: 'appealed',
      appealReviewOverdue: false,
      appealableUntil: null,
      appeal: { from: 'declined', outcome: null },
    });
    expect(new Date(ap.body.reviewBy).getTime()).toBeGreaterThan(Date.now());

    // The officer who declined cannot review the appeal.
    const own = await t.http
      .post(`/v1/complaints/${tk.id}/appeal/decision`)
      .set(officer('officer-a'))
      .send({ outcome: 'overturned', note: 'I changed my mind.' });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('FORBIDDEN');
    expect((await row(tk.id)).status).toBe('appealed');

    // The first acceptance period long over (moved back): the overturn gives a fresh one.
    await t.db.query(`UPDATE complaints SET accept_by = now() - interval '20 days' WHERE id = $1`, [
      tk.id,
    ]);
    const ok = await t.http
      .post(`/v1/complaints/${tk.id}/appeal/decision`)
      .set(officer('officer-b'))
      .send({ outcome: 'overturned', note: '新的证据足以受理。' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      status: 'escalated',
      declineReason: null,
      closedAt: null,
      appeal: { outcome: 'overturned', note: '新的证据足以受理。' },
    });
    expect(new Date(ok.body.acceptBy).getTime()).toBeGreaterThan(Date.now());
    expect(ok.body.acceptanceOverdue).toBe(false);

    const trail = await events(tk.id);
    const appealed = trail.find((e) => e.type === 'appealed')!;
    expect(appealed.actor.role).toBe('consumer');
    expect(appealed.data).toMatchObject({
      from: 'declined',
      to: 'appealed',
      decidedBy: 'officer-a',
    });
    const decided = trail.find((e) => e.type === 'appeal_decided')!;
    expect(decided.actor).toEqual({ role: 'regulator', id: 'officer-b' });
    expect(decided.data).toMatchObject({
      outcome: 'overturned',
      from: 'appealed',
      to: 'escalated',
    });
    // The overturn is not a second escalation on the trail (nor in the statistics).
    expect(trail.filter((e) => e.type === 'escalated')).toHaveLength(1);

    // Declined again: the one appeal is used.
    await t.http
      .post(`/v1/complaints/${tk.id}/decline`)
      .set(officer('officer-b'))
      .send({ reason: 'other', detail: 'Still no claim.' })
      .expect(200);
    const again = await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'Once more, please.' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('INVALID_TRANSITION');

    const v = await t.http.get(`/v1/complaints/${tk.id}/events/verify`).set(tk.consumer);
    expect(v.body.valid).toBe(true);
  });

  it('mediation_failed → appealed → upheld by an admin: back to mediation_failed, no second appeal', async () => {
    const tk = await mediationFailed('officer-a');
    await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'The mediation ended too early.' })
      .expect(200);
    const up = await t.http
      .post(`/v1/complaints/${tk.id}/appeal/decision`)
      .set(admin())
      .send({ outcome: 'upheld', note: 'Both parties were heard; no agreement is possible.' });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ status: 'mediation_failed', appeal: { outcome: 'upheld' } });
    expect(up.body.closedAt).not.toBeNull();
    const again = await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'Second try.' });
    expect(again.status).toBe(409);
  });

  it('mediation_failed → overturned: mediating again with a new mediationEndBy', async () => {
    const tk = await mediationFailed('officer-a');
    await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'The merchant has since offered to talk.' })
      .expect(200);
    const r = await t.http
      .post(`/v1/complaints/${tk.id}/appeal/decision`)
      .set(officer('officer-c'))
      .send({ outcome: 'overturned', note: 'Resume mediation.' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'mediating', mediationOutcome: null, closedAt: null });
    expect(new Date(r.body.mediationEndBy).getTime()).toBeGreaterThan(Date.now());
    expect((await row(tk.id)).decided_by).toBeNull();
  });

  it('a mediation terminated by the worker may be reviewed by any officer', async () => {
    const tk = await ticketIn(t, shop, 'mediating', { regulator: officer('officer-a') });
    await t.db.query(
      `UPDATE complaints SET mediation_end_by = now() - interval '1 minute' WHERE id = $1`,
      [tk.id],
    );
    expect(
      await t.app.get(RegulatorUseCase, { strict: false }).terminateMediationIfDue(tk.id),
    ).toBe(true);
    expect((await row(tk.id)).decided_by).toBe('system');
    await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'The office ran out of time, not the merchant.' })
      .expect(200);
    await t.http
      .post(`/v1/complaints/${tk.id}/appeal/decision`)
      .set(officer('officer-a'))
      .send({ outcome: 'overturned', note: 'Resume.' })
      .expect(200);
  });

  it('refuses an appeal after the window (422) and writes nothing', async () => {
    const tk = await declined();
    // The decision was made two months ago (no wall-clock waiting: the date is moved).
    await t.db.query(
      `UPDATE complaints SET decided_at = decided_at - interval '60 days' WHERE id = $1`,
      [tk.id],
    );
    const before = await row(tk.id);
    const r = await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'Too late?' });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('APPEAL_WINDOW_EXPIRED');
    expect(r.body.closesAt).toBeDefined();
    const after = await row(tk.id);
    expect(after.status).toBe('declined');
    expect(after.event_count).toBe(before.event_count);
    const view = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer);
    expect(view.body.appealableUntil).toBeNull();
  });

  it('refuses appeals of anything but a decision, by anyone but the consumer; decisions on unappealed tickets', async () => {
    const tk = await ticketIn(t, shop, 'escalated');
    const r = await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'Nothing was decided yet.' });
    expect(r.status).toBe(409);
    const d = await declined();
    const m = await t.http
      .post(`/v1/complaints/${d.id}/appeal`)
      .set(shop.staff)
      .send({ reason: 'merchants do not appeal' });
    expect(m.status).toBe(403);
    const dec = await t.http
      .post(`/v1/complaints/${d.id}/appeal/decision`)
      .set(officer('officer-b'))
      .send({ outcome: 'overturned', note: 'x' });
    expect(dec.status).toBe(409);
    expect(dec.body.code).toBe('INVALID_TRANSITION');
    const bad = await t.http
      .post(`/v1/complaints/${d.id}/appeal`)
      .set(d.consumer)
      .send({ reason: 'x', extra: true });
    expect(bad.status).toBe(400);
    // An officer of another office does not see the ticket at all.
    const other = await createOffice(t, ['6302'], '海东市市场监督管理局');
    const elsewhere = await t.http
      .post(`/v1/complaints/${d.id}/appeal/decision`)
      .set(bearer(t.token({ role: 'regulator', sub: 'officer-z', officeId: other.id })))
      .send({ outcome: 'overturned', note: 'x' });
    expect(elsewhere.status).toBe(404);
  });

  it('an overturned decline is not a second escalation in the statistics', async () => {
    const own = await createShop(t, '630121'); // a merchant of its own: its figures are this test's
    const tk = await ticketIn(t, own, 'escalated');
    await t.http
      .post(`/v1/complaints/${tk.id}/decline`)
      .set(officer('officer-a'))
      .send({ reason: 'no_clear_claim' })
      .expect(200);
    await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'Please look again.' })
      .expect(200);
    await t.http
      .post(`/v1/complaints/${tk.id}/appeal/decision`)
      .set(officer('officer-b'))
      .send({ outcome: 'overturned', note: 'Accept it.' })
      .expect(200);
    const stats = t.app.get(StatsService, { strict: false });
    while ((await stats.drainBatch(500)) > 0);
    const res = await t.http
      .get(`/v1/stats/self-resolution?merchantId=${own.merchant.id}`)
      .set(admin())
      .expect(200);
    expect(res.body.escalated).toBe(1);
  });

  it('documents the appeal and trail routes in OpenAPI', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(doc.paths['/v1/complaints/{id}/appeal'].post.responses['422']).toBeDefined();
    expect(doc.paths['/v1/complaints/{id}/appeal/decision'].post.responses['403']).toBeDefined();
    expect(doc.paths['/v1/trail/checkpoints'].get).toBeDefined();
    expect(doc.paths['/v1/complaints/{id}/events/proof'].get).toBeDefined();
    expect(doc.components.schemas.TicketResponse.properties.appealReviewOverdue).toBeDefined();
  });

  it('flags an appeal past reviewBy as overdue on the view and in /metrics', async () => {
    const tk = await declined();
    await t.http
      .post(`/v1/complaints/${tk.id}/appeal`)
      .set(tk.consumer)
      .send({ reason: 'Please review.' })
      .expect(200);
    let view = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer);
    expect(view.body.appealReviewOverdue).toBe(false);
    // reviewBy is counted like acceptBy / mediationEndBy: its calendar basis is recorded.
    expect(['official', 'estimated']).toContain(view.body.deadlineBasis.reviewBy);
    const [{ basis }] = await t.db.query(
      `SELECT deadline_basis->'reviewBy' AS basis FROM complaints WHERE id = $1`,
      [tk.id],
    );
    expect(basis).toMatchObject({ workdays: 15, ruleSet: 'cn-12315' });
    expect(new Date(view.body.reviewBy).getTime()).toBeGreaterThan(new Date(basis.from).getTime());
    await t.db.query(
      `UPDATE complaints SET review_by = now() - interval '1 second' WHERE id = $1`,
      [tk.id],
    );
    view = await t.http.get(`/v1/complaints/${tk.id}`).set(tk.consumer);
    expect(view.body.appealReviewOverdue).toBe(true);
    const metrics = await t.http.get('/metrics').set(metricsAuth()).expect(200);
    const line = metrics.text
      .split('\n')
      .find((l) => l.startsWith(`hejie_appeal_review_overdue{office="${officeId}"}`));
    expect(line).toBeDefined();
    expect(Number(line!.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
  });

  it('counts the window and the review period in the ticket’s rule set (platform: 10 working days)', async () => {
    const office = await createOffice(t, ['6323'], '黄南州市场监督管理局');
    await t.http
      .patch(`/v1/offices/${office.id}`)
      .set(admin())
      .send({ ruleSet: 'platform-live-commerce' })
      .expect(200);
    const shop2 = await createShop(t, '632321');
    const duty = bearer(t.token({ role: 'regulator', sub: 'officer-hd', officeId: office.id }));
    const decide = async () => {
      const tk = await ticketIn(t, shop2, 'escalated');
      expect([tk.body.officeId, tk.body.regionCode, tk.body.ruleSet]).toEqual([
        office.id,
        '632321',
        'platform-live-commerce',
      ]);
      await t.http
        .post(`/v1/complaints/${tk.id}/decline`)
        .set(duty)
        .send({ reason: 'no_clear_claim' })
        .expect(200);
      return tk;
    };

    // Decided 18 days ago: at least 12 working days, past the platform's 10 (the national set's
    // 15 would still admit it).
    const late = await decide();
    await t.db.query(
      `UPDATE complaints SET decided_at = decided_at - interval '18 days' WHERE id = $1`,
      [late.id],
    );
    expect(
      (await t.http.get(`/v1/complaints/${late.id}`).set(late.consumer)).body.appealableUntil,
    ).toBeNull();
    const refused = await t.http
      .post(`/v1/complaints/${late.id}/appeal`)
      .set(late.consumer)
      .send({ reason: 'Please review.' });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('APPEAL_WINDOW_EXPIRED');
    expect(refused.body.appealWindowWorkdays).toBe(10);

    // In time: reviewBy is 10 working days on, with its basis under the platform set.
    const ok = await decide();
    const r = await t.http
      .post(`/v1/complaints/${ok.id}/appeal`)
      .set(ok.consumer)
      .send({ reason: 'Please review.' })
      .expect(200);
    const [{ basis }] = await t.db.query(
      `SELECT deadline_basis->'reviewBy' AS basis FROM complaints WHERE id = $1`,
      [ok.id],
    );
    expect(basis).toMatchObject({ workdays: 10, ruleSet: 'platform-live-commerce' });
    expect(r.body.reviewBy).toBe(r.body.appeal.reviewBy);
  });
});
