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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE complaints
        DROP COLUMN rule_set, DROP COLUMN rule_limits, DROP COLUMN deadline_basis, DROP COLUMN extensions`);
    await q.query(`ALTER TABLE offices DROP COLUMN rule_set`);
    await q.query(`DROP TABLE calendar_versions`);
  }
}
