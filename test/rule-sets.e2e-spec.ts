/*
 * Issue 15: rule sets as data. The sets are the files of RULE_SETS_DIR (the repository's rules/
 * by default), loaded at start-up; an operator adds a set or changes a limit (version bump) in
 * its own folder and restarts. A ticket keeps the limits it was escalated under; tickets from
 * before rule sets are frozen on the national limits of the time (FreezeLegacyRuleLimits).
 * Time is a FakeClock. Region codes 83xxxx are this suite's own.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LEGACY_NATIONAL_LIMITS,
  freezeLegacyRuleLimits,
} from '../migrations/1765000500000-FreezeLegacyRuleLimits';
import { PRE_RULE_SET_LIMITS } from '../libs/complaints/src/rules/rule-sets';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, ticketIn } from './factories/complaint.factory';
import { FakeClock } from './helpers/fake-clock';
import { spawnWorker } from './helpers/worker-process';

const REGIONAL = (version: number, acceptWorkdays: number, mediationWorkdays: number) => ({
  id: 'regional-fast',
  version,
  name: 'Regional fast track (test)',
  source: 'a provincial pilot (test)',
  acceptWorkdays,
  mediationWorkdays,
  appealWindowWorkdays: 10,
  reviewWorkdays: 10,
  maxExtensionWorkdays: 5,
});

describe('rule sets as data (RULE_SETS_DIR)', () => {
  const clock = new FakeClock();
  const setNow = (iso: string) => clock.set(new Date(iso));
  const admin = (t: TestApp) => bearer(t.token({ role: 'admin' }));
  const dir = mkdtempSync(join(tmpdir(), 'hejie-rules-e2e-'));
  const writeSet = (file: string, content: unknown) =>
    writeFileSync(join(dir, file), JSON.stringify(content, null, 2));

  /** An app on `env`; the variables are removed again when it closes (startTestApp sets them). */
  async function withApp<T>(
    env: Record<string, string>,
    fn: (t: TestApp) => Promise<T>,
  ): Promise<T> {
    try {
      const t = await startTestApp({ RATE_LIMIT: '100000', ...env }, { clock });
      try {
        return await fn(t);
      } finally {
        await t.close();
      }
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  }

  beforeAll(() => {
    // The committed sets, copied; each test that reads the third one writes it as it needs it
    // (the "changed file" test leaves version 2 behind, and tests run in any order).
    for (const f of ['cn-12315.json', 'platform-live-commerce.json']) {
      writeFileSync(join(dir, f), readFileSync(join('rules', f)));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('by default GET /v1/rules serves the committed files, and an id they lack is refused (400)', async () => {
    await withApp({}, async (t) => {
      const rules = await t.http.get('/v1/rules');
      expect(rules.status).toBe(200);
      expect(
        rules.body.items.map((s: { id: string; version: number }) => [s.id, s.version]),
      ).toEqual([
        ['cn-12315', 1],
        ['platform-live-commerce', 1],
      ]);
      const res = await t.http
        .post('/v1/offices')
        .set(admin(t))
        .send({ name: 'x', regionCodes: ['8309'], ruleSet: 'regional-fast' });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual([
        {
          field: 'ruleSet',
          message: 'ruleSet must be one of GET /v1/rules: cn-12315, platform-live-commerce',
        },
      ]);
    });
  });

  it('a third set in RULE_SETS_DIR: listed, an office PATCHed to it, a ticket escalated under it gets its limits; unknown ids refused', async () => {
    writeSet('regional-fast.json', REGIONAL(1, 3, 20));
    await withApp({ RULE_SETS_DIR: dir }, async (t) => {
      const rules = await t.http.get('/v1/rules');
      expect(rules.body.items).toHaveLength(3);
      expect(rules.body.items[2]).toEqual({ ...REGIONAL(1, 3, 20), default: false });

      const office = await createOffice(t, ['8301'], '测试局八三零一');
      const patched = await t.http
        .patch(`/v1/offices/${office.id}`)
        .set(admin(t))
        .send({ ruleSet: 'regional-fast' });
      expect(patched.status).toBe(200);
      expect(patched.body.ruleSet).toBe('regional-fast');
      for (const bad of ['made-up', 'Regional Fast', 42]) {
        const res = await t.http
          .patch(`/v1/offices/${office.id}`)
          .set(admin(t))
          .send({ ruleSet: bad });
        expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
        expect(JSON.stringify(res.body.errors)).toMatch(/ruleSet must be one of GET \/v1\/rules/);
      }
      const created = await t.http
        .post('/v1/offices')
        .set(admin(t))
        .send({ name: 'y', regionCodes: ['8308'], ruleSet: 'made-up' });
      expect(created.status).toBe(400);

      const shop = await createShop(t, '830101');
      setNow('2026-11-09T02:00:00Z'); // Mon 9 Nov
      const ticket = await ticketIn(t, shop, 'escalated');
      expect(ticket.body.ruleSet).toBe('regional-fast');
      expect(ticket.body.acceptBy).toBe('2026-11-12T15:59:59.999Z'); // 3 working days
    });
  });

  it('a changed file (new version, other limits) and a restart: the open ticket keeps its limits, a new one gets the new', async () => {
    writeSet('regional-fast.json', REGIONAL(1, 3, 20));
    const officeId = await withApp({ RULE_SETS_DIR: dir }, async (t) => {
      const office = await createOffice(t, ['8302'], '测试局八三零二');
      await t.http
        .patch(`/v1/offices/${office.id}`)
        .set(admin(t))
        .send({ ruleSet: 'regional-fast' })
        .expect(200);
      return office.id;
    });
    let before!: { id: string; acceptBy: string };
    const shop = await withApp({ RULE_SETS_DIR: dir }, async (t) => {
      const shop = await createShop(t, '830201');
      setNow('2026-11-09T02:00:00Z');
      const ticket = await ticketIn(t, shop, 'escalated');
      before = { id: ticket.id, acceptBy: ticket.body.acceptBy as string };
      expect(before.acceptBy).toBe('2026-11-12T15:59:59.999Z');
      return shop;
    });

    // The operator tightens the set: version 2, acceptance 2, mediation 10 working days.
    writeSet('regional-fast.json', REGIONAL(2, 2, 10));
    await withApp({ RULE_SETS_DIR: dir }, async (t) => {
      const rules = await t.http.get('/v1/rules');
      expect(rules.body.items.find((s: { id: string }) => s.id === 'regional-fast')).toMatchObject({
        version: 2,
        acceptWorkdays: 2,
        mediationWorkdays: 10,
      });

      const regulator = bearer(t.token({ role: 'regulator', officeId }));
      const open = await t.http.get(`/v1/complaints/${before.id}`).set(admin(t));
      expect(open.body.acceptBy).toBe(before.acceptBy);

      const later = await ticketIn(t, shop, 'escalated');
      expect(later.body.ruleSet).toBe('regional-fast');
      expect(later.body.acceptBy).toBe('2026-11-11T15:59:59.999Z'); // 2 working days

      setNow('2026-11-10T02:00:00Z'); // Tue 10 Nov: both accepted
      const accOld = await t.http.post(`/v1/complaints/${before.id}/accept`).set(regulator);
      expect(accOld.status).toBe(200);
      expect(accOld.body.mediationEndBy).toBe('2026-12-08T15:59:59.999Z'); // 20, version 1
      const accNew = await t.http.post(`/v1/complaints/${later.id}/accept`).set(regulator);
      expect(accNew.status).toBe(200);
      expect(accNew.body.mediationEndBy).toBe('2026-11-24T15:59:59.999Z'); // 10, version 2

      const rows: { id: string; rule_limits: { mediationWorkdays: number } }[] = await t.db.query(
        `SELECT id, rule_limits FROM complaints WHERE id = ANY($1)`,
        [[before.id, later.id]],
      );
      const limits = new Map(rows.map((r) => [r.id, r.rule_limits.mediationWorkdays]));
      expect([limits.get(before.id), limits.get(later.id)]).toEqual([20, 10]);
    });
  });

  it('a RULE_SETS_DIR with an invalid file stops the API and the worker at boot, naming the file and the field', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'hejie-rules-bad-'));
    try {
      writeFileSync(
        join(bad, 'regional-fast.json'),
        JSON.stringify({ ...REGIONAL(1, 3, 20), acceptHours: 24 }),
      );
      const problem = /rule set file regional-fast\.json: acceptWorkdays: give exactly one/;
      await expect(withApp({ RULE_SETS_DIR: bad }, async () => undefined)).rejects.toThrow(problem);
      await expect(spawnWorker({ RULE_SETS_DIR: bad })).rejects.toThrow(problem);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  }, 120_000);

  it('tickets escalated before rule sets existed are frozen on the national limits of the time', async () => {
    expect(LEGACY_NATIONAL_LIMITS).toEqual(PRE_RULE_SET_LIMITS);
    // The national mediation limit changes by configuration after those escalations.
    await withApp({ MEDIATION_WORKDAYS: '30' }, async (t) => {
      const office = await createOffice(t, ['8303'], '测试局八三零三');
      const regulator = bearer(t.token({ role: 'regulator', officeId: office.id }));
      const shop = await createShop(t, '830301');
      setNow('2026-08-03T02:00:00Z'); // Mon 3 Aug
      const legacy = await ticketIn(t, shop, 'escalated');
      const unfrozen = await ticketIn(t, shop, 'escalated');
      // As the rows of that time: a set id, no limits.
      await t.db.query(`UPDATE complaints SET rule_limits = NULL WHERE id = ANY($1)`, [
        [legacy.id, unfrozen.id],
      ]);
      setNow('2026-08-04T02:00:00Z');
      // Without the freeze the configuration of today rewrites the case: 30 working days.
      const acc1 = await t.http.post(`/v1/complaints/${unfrozen.id}/accept`).set(regulator);
      expect(acc1.body.mediationEndBy).toBe('2026-09-15T15:59:59.999Z');

      expect(await freezeLegacyRuleLimits(t.db)).toBeGreaterThanOrEqual(1);
      const [row]: { rule_set: string; rule_limits: unknown }[] = await t.db.query(
        `SELECT rule_set, rule_limits FROM complaints WHERE id = $1`,
        [legacy.id],
      );
      expect(row).toEqual({ rule_set: 'cn-12315', rule_limits: LEGACY_NATIONAL_LIMITS });
      // Frozen: the 45 working days it was escalated under.
      const acc2 = await t.http.post(`/v1/complaints/${legacy.id}/accept`).set(regulator);
      expect(acc2.status).toBe(200);
      expect(acc2.body.mediationEndBy).toBe('2026-10-12T15:59:59.999Z');
      // A second run freezes nothing more of these (idempotent).
      await freezeLegacyRuleLimits(t.db);
      const after: { n: string }[] = await t.db.query(
        `SELECT count(*) AS n FROM complaints WHERE rule_limits IS NULL AND escalated_at IS NOT NULL`,
      );
      expect(after[0].n).toBe('0');
    });
  });
});
