import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15: the working-day calendar as versioned rows, rule sets on offices and tickets, the
 * basis of each deadline and the extensions.
 *
 * - `calendar_versions`: one row per official version of a year (the State Council's notice);
 *   a year without a row is estimated from the lunar calendar at run time (never stored). Seeded
 *   here from the `chinese-days` package's data as version 1 of every year it covers
 *   (2004–2026 in 1.5.7); later versions come from PUT /v1/calendar/:year or a calendar/ file.
 * - `offices.rule_set`: the set an office works under (existing offices: the national set).
 * - `complaints.rule_set` / `rule_limits`: the set a ticket was escalated under and its limits at
 *   that moment; `deadline_basis` {field: {basis, calendarVersion, years, from, workdays, hours}};
 *   `extensions` [{deadline, workdays, reason, at}]. Escalated tickets get the national set.
 */
// QueryRunner (the migration) or DataSource (a test): both answer rows as `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Query = { query(sql: string, params?: unknown[]): Promise<any> };

const SHANGHAI_MS = 8 * 3_600_000;
const localDate = (d: Date): string =>
  new Date(d.getTime() + SHANGHAI_MS).toISOString().slice(0, 10);
const nextDay = (s: string): string =>
  new Date(Date.parse(`${s}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const OLD_FALLBACK = ['01-01', '05-01', '05-02', '10-01', '10-02', '10-03'];

/**
 * The running deadlines of tickets escalated before this migration get a basis, so they can be
 * recomputed like new ones: `from` = acceptance (mediationEndBy) or the last transfer / the
 * escalation (acceptBy); `workdays` = the working days the old code counted from there to the
 * stored deadline (chinese-days data, or its fixed-date fallback for a year it lacked). A year
 * counted on that fallback is recorded as version -1: older than the estimate, so the worker's
 * first rebase recomputes those deadlines on the estimate (a deadline_changed event each), and
 * again when the official year is loaded.
 */
export async function backfillDeadlineBases(
  q: Query,
  data: { holidays: Record<string, string>; workdays: Record<string, string> },
): Promise<number> {
  const covered = new Set(Object.keys(data.holidays).map((d) => Number(d.slice(0, 4))));
  const rows: {
    id: string;
    status: string;
    escalated_at: Date;
    accept_by: Date | null;
    accepted_at: Date | null;
    mediation_end_by: Date | null;
    transferred_at: Date | null;
  }[] = await q.query(
    `SELECT c.id, c.status, c.escalated_at, c.accept_by, c.accepted_at, c.mediation_end_by,
            (SELECT max(e.at) FROM complaint_events e
              WHERE e.complaint_id = c.id AND e.type = 'transferred') AS transferred_at
       FROM complaints c
      WHERE c.status IN ('escalated', 'mediating') AND c.deadline_basis = '{}'::jsonb`,
  );
  const basisOf = (from: Date, deadline: Date) => {
    const years: Record<string, number> = {};
    let workdays = 0;
    const last = localDate(deadline);
    for (let d = nextDay(localDate(from)); d <= last; d = nextDay(d)) {
      const y = Number(d.slice(0, 4));
      years[y] = covered.has(y) ? 1 : -1;
      const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
      const working = covered.has(y)
        ? d in data.workdays || (wd >= 1 && wd <= 5 && !(d in data.holidays))
        : wd >= 1 && wd <= 5 && !OLD_FALLBACK.includes(d.slice(5));
      if (working) workdays++;
    }
    if (workdays < 1) return null;
    return {
      basis: Object.values(years).some((v) => v < 1) ? 'estimated' : 'official',
      calendarVersion: Math.max(0, years[Number(last.slice(0, 4))] ?? 0),
      years,
      from: from.toISOString(),
      workdays,
      hours: 0,
      ruleSet: 'cn-12315',
    };
  };
  const updates: { id: string; basis: string }[] = [];
  for (const r of rows) {
    const basis: Record<string, unknown> = {};
    if (r.status === 'escalated' && r.accept_by) {
      const b = basisOf(r.transferred_at ?? r.escalated_at, r.accept_by);
      if (b) basis.acceptBy = b;
    }
    if (r.status === 'mediating' && r.mediation_end_by && r.accepted_at) {
      const b = basisOf(r.accepted_at, r.mediation_end_by);
      if (b) basis.mediationEndBy = b;
    }
    if (Object.keys(basis).length) updates.push({ id: r.id, basis: JSON.stringify(basis) });
  }
  if (updates.length) {
    await q.query(
      `UPDATE complaints c SET deadline_basis = u.basis
         FROM unnest($1::uuid[], $2::jsonb[]) AS u(id, basis) WHERE c.id = u.id`,
      [updates.map((u) => u.id), updates.map((u) => u.basis)],
    );
  }
  return updates.length;
}

export class CalendarAndRuleSets1764700400000 implements MigrationInterface {
  name = 'CalendarAndRuleSets1764700400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE calendar_versions (
        id bigserial PRIMARY KEY,
        year integer NOT NULL CHECK (year BETWEEN 1901 AND 2099),
        version integer NOT NULL CHECK (version >= 1),
        source text NOT NULL DEFAULT 'official' CHECK (source = 'official'),
        notice jsonb NOT NULL,
        holidays text[] NOT NULL,
        workdays text[] NOT NULL,
        loaded_from text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT uq_calendar_versions UNIQUE (year, version)
      )`);

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('chinese-days/package.json') as { version: string };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const data = require('chinese-days/dist/chinese-days.json') as {
      holidays: Record<string, string>;
      workdays: Record<string, string>;
    };
    const years = new Map<number, { holidays: string[]; workdays: string[] }>();
    const yearOf = (d: string) => {
      const y = Number(d.slice(0, 4));
      if (!years.has(y)) years.set(y, { holidays: [], workdays: [] });
      return years.get(y)!;
    };
    for (const d of Object.keys(data.holidays)) yearOf(d).holidays.push(d);
    for (const d of Object.keys(data.workdays)) yearOf(d).workdays.push(d);
    for (const [year, days] of [...years].sort((a, b) => a[0] - b[0])) {
      await q.query(
        `INSERT INTO calendar_versions (year, version, notice, holidays, workdays, loaded_from)
         VALUES ($1, 1, $2::jsonb, $3::text[], $4::text[], $5)`,
        [
          year,
          JSON.stringify({
            title: `State Council holiday arrangement for ${year} (as published in chinese-days ${pkg.version})`,
            date: null,
          }),
          days.holidays.sort(),
          days.workdays.sort(),
          `chinese-days@${pkg.version}`,
        ],
      );
    }

    await q.query(`ALTER TABLE offices ADD COLUMN rule_set text NOT NULL DEFAULT 'cn-12315'`);
    await q.query(`
      ALTER TABLE complaints
        ADD COLUMN rule_set text,
        ADD COLUMN rule_limits jsonb,
        ADD COLUMN deadline_basis jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN extensions jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await q.query(`UPDATE complaints SET rule_set = 'cn-12315' WHERE escalated_at IS NOT NULL`);
    await backfillDeadlineBases(q, data);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE complaints
        DROP COLUMN rule_set, DROP COLUMN rule_limits, DROP COLUMN deadline_basis, DROP COLUMN extensions`);
    await q.query(`ALTER TABLE offices DROP COLUMN rule_set`);
    await q.query(`DROP TABLE calendar_versions`);
  }
}
