import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { DataSource, EntityManager } from 'typeorm';
import { CLOCK, DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Clock, HejieConfig } from '@app/shared';
import { DEADLINES_QUEUE, JOB_NAMES } from '../jobs/jobs';
import { addWorkingDays, shanghaiDate } from '../lifecycle/working-days';
import { longestLimitWorkdays } from '../rules/rule-sets';
import { RulesService } from '../rules/rules.service';
import {
  CalendarInput,
  CalendarSnapshot,
  CalendarYear,
  assertYear,
  estimatedCalendarYear,
  normaliseInput,
} from './calendar-year';

interface VersionRow {
  id: string;
  year: number;
  version: number;
  notice: CalendarYear['notice'];
  holidays: string[];
  workdays: string[];
  loaded_from: string;
  created_at: Date;
}

/** How long a process counts on its snapshot before asking PostgreSQL for a newer revision. */
export const CALENDAR_RECHECK_MS = 5_000;
/** How many days ahead a warning comes before deadlines need a year without official data. */
export const HORIZON_DAYS = 60;

const rowToYear = (r: VersionRow): CalendarYear => ({
  year: r.year,
  source: 'official',
  version: r.version,
  notice: r.notice,
  holidays: r.holidays,
  workdays: r.workdays,
  loadedFrom: r.loaded_from,
  createdAt: r.created_at.toISOString(),
});

const sameDays = (a: CalendarInput, b: { holidays: string[]; workdays: string[] }): boolean =>
  JSON.stringify(a.holidays) === JSON.stringify([...b.holidays].sort()) &&
  JSON.stringify(a.workdays) === JSON.stringify([...b.workdays].sort());

/**
 * The working-day calendar as versioned rows (calendar_versions): the official arrangement of
 * each year, loaded by an admin (PUT /v1/calendar/:year) or from a calendar/<year>.json file at
 * boot, every version kept; years without one are estimated (holiday-estimator.ts).
 *
 * Hot path: the API and the worker count deadlines on an in-memory CalendarSnapshot. It is
 * re-validated at most every CALENDAR_RECHECK_MS with one index-only query (the highest row id);
 * a load in this process invalidates it at once. A deadline counted on a stale snapshot in
 * another process records the older version in its basis, and the worker's rebase (which every
 * sweep also runs) recomputes it: nothing depends on the snapshot being fresh to the millisecond.
 */
@Injectable()
export class CalendarService implements OnApplicationBootstrap {
  private readonly logger = new Logger(CalendarService.name);
  private snapshotValue: CalendarSnapshot | null = null;
  private checkedAt = 0;
  private loading: Promise<CalendarSnapshot> | null = null;
  private warnedAt = new Map<number, number>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @InjectQueue(DEADLINES_QUEUE) private readonly queue: Queue,
    private readonly rules: RulesService,
  ) {}

  /** Loads the calendar/ files (if the folder exists) when the application starts. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.loadFolder(resolve(this.config.calendarDir));
    } catch (e) {
      // The offending entries, so that the operator can fix the file from the log alone.
      const entries =
        e instanceof DomainError && e.errors?.length
          ? ` (${e.errors.map((x) => `${x.field}: ${x.message}`).join('; ')})`
          : '';
      this.logger.error(`calendar files not loaded: ${String(e)}${entries}`);
      throw e;
    }
  }

  /**
   * The calendar deadlines are counted on now (see the class comment). `fresh`: ask PostgreSQL
   * for the revision now (the rebase, which must see a version the moment it was loaded).
   */
  async snapshot(fresh = false): Promise<CalendarSnapshot> {
    const now = Date.now();
    if (this.snapshotValue && !fresh && now - this.checkedAt < CALENDAR_RECHECK_MS) {
      return this.snapshotValue;
    }
    this.loading ??= this.refresh().finally(() => (this.loading = null));
    return this.loading;
  }

  private async refresh(): Promise<CalendarSnapshot> {
    const [{ rev }]: { rev: string }[] = await this.db.query(
      `SELECT coalesce(max(id), 0) AS rev FROM calendar_versions`,
    );
    if (!this.snapshotValue || this.snapshotValue.revision !== Number(rev)) {
      const rows: VersionRow[] = await this.db.query(
        `SELECT DISTINCT ON (year) * FROM calendar_versions ORDER BY year, version DESC`,
      );
      this.snapshotValue = new CalendarSnapshot(Number(rev), rows);
    }
    this.checkedAt = Date.now();
    return this.snapshotValue;
  }

  /** GET /v1/calendar/:year: the latest official version, or the estimate. */
  async year(year: number): Promise<CalendarYear> {
    assertYear(year);
    const [row]: VersionRow[] = await this.db.query(
      `SELECT * FROM calendar_versions WHERE year = $1 ORDER BY version DESC LIMIT 1`,
      [year],
    );
    return row ? rowToYear(row) : estimatedCalendarYear(year);
  }

  /** Every official version of a year, newest first. */
  async versions(year: number): Promise<CalendarYear[]> {
    assertYear(year);
    const rows: VersionRow[] = await this.db.query(
      `SELECT * FROM calendar_versions WHERE year = $1 ORDER BY version DESC`,
      [year],
    );
    return rows.map(rowToYear);
  }

  /**
   * Stores `input` as the next official version of `year` (older versions are kept), unless its
   * days are those of the latest version already: then nothing is added (a different notice title
   * or date is corrected on that version in place). Serialised per year with an advisory lock, so
   * parallel loads (two API processes booting) add one version. A new version asks the worker to
   * recompute the open deadlines counted on an older basis (job `deadline.rebase`; every sweep
   * does it too).
   */
  async load(
    year: number,
    raw: CalendarInput,
    loadedFrom: string,
  ): Promise<{ calendar: CalendarYear; created: boolean }> {
    const input = normaliseInput(year, raw);
    const result = await this.db.transaction(async (tx: EntityManager) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('hejie:calendar'), $1)`, [year]);
      const [latest]: VersionRow[] = await tx.query(
        `SELECT * FROM calendar_versions WHERE year = $1 ORDER BY version DESC LIMIT 1`,
        [year],
      );
      if (latest && sameDays(input, latest)) {
        if (JSON.stringify(latest.notice) !== JSON.stringify(input.notice)) {
          const [updated]: [VersionRow[], number] = await tx.query(
            `UPDATE calendar_versions SET notice = $2::jsonb WHERE id = $1 RETURNING *`,
            [latest.id, JSON.stringify(input.notice)],
          );
          return { calendar: rowToYear(updated[0]), created: false };
        }
        return { calendar: rowToYear(latest), created: false };
      }
      const [row]: VersionRow[] = await tx.query(
        `INSERT INTO calendar_versions (year, version, notice, holidays, workdays, loaded_from, created_at)
         VALUES ($1, $2, $3::jsonb, $4::text[], $5::text[], $6, $7) RETURNING *`,
        [
          year,
          (latest?.version ?? 0) + 1,
          JSON.stringify(input.notice),
          input.holidays,
          input.workdays,
          loadedFrom,
          this.clock.now(),
        ],
      );
      return { calendar: rowToYear(row), created: true };
    });
    if (result.created) {
      this.checkedAt = 0; // this process counts on the new version from its next deadline
      this.logger.log(
        `calendar ${year}: official version ${result.calendar.version} loaded from ${loadedFrom}`,
      );
      await this.queue
        .add(
          JOB_NAMES.deadlineRebase,
          { year, version: result.calendar.version },
          {
            jobId: `rebase-${year}-${result.calendar.version}`,
            removeOnComplete: 100,
            removeOnFail: 100,
          },
        )
        .catch((e: unknown) =>
          this.logger.warn(`could not enqueue the rebase; the sweep will do it: ${String(e)}`),
        );
    }
    return result;
  }

  /** calendar/<year>.json files: `{ notice: { title, date }, holidays: [], workdays: [] }`. */
  async loadFolder(dir: string): Promise<number> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return 0; // no calendar folder in this deployment
    }
    let created = 0;
    for (const name of names.filter((n) => /^\d{4}\.json$/.test(n)).sort()) {
      const year = Number(name.slice(0, 4));
      const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as CalendarInput & {
        year?: number;
      };
      if (parsed.year !== undefined && parsed.year !== year) {
        throw new Error(`${name} says year ${parsed.year}`);
      }
      const { notice, holidays, workdays } = parsed;
      const r = await this.load(year, { notice, holidays, workdays }, `file:${name}`);
      if (r.created) created++;
    }
    return created;
  }

  /**
   * Years without official data that deadlines counted within the next HORIZON_DAYS will need:
   * every year from today (Asia/Shanghai) to the end of the longest limit of the rule sets
   * (longestLimitWorkdays: 45 + 15 working days for the national mediation) counted from
   * HORIZON_DAYS ahead. So the warning comes 60 days before the first deadline is counted on an
   * estimate (mid-August for the next year with the national set), not when the year is 60 days
   * away, by which time such deadlines have been estimated for weeks. Logged (at most hourly per
   * year and process) by the worker's sweep; a gauge on /metrics.
   */
  async yearsWithoutOfficialData(now = this.clock.now()): Promise<number[]> {
    const snap = await this.snapshot();
    const first = Number(shanghaiDate(now).slice(0, 4));
    const ahead = new Date(now.getTime() + HORIZON_DAYS * 86_400_000);
    const reach = addWorkingDays(ahead, longestLimitWorkdays(this.rules.sets), { calendar: snap });
    const last = Number(shanghaiDate(reach.deadline).slice(0, 4));
    const out: number[] = [];
    for (let y = first; y <= last; y++) if (!snap.hasOfficialData(y)) out.push(y);
    return out;
  }

  async warnHorizon(now = this.clock.now()): Promise<number[]> {
    const missing = await this.yearsWithoutOfficialData(now);
    for (const year of missing) {
      const last = this.warnedAt.get(year) ?? 0;
      if (now.getTime() - last < 3_600_000) continue;
      this.warnedAt.set(year, now.getTime());
      this.logger.warn(
        `calendar: deadlines counted within ${HORIZON_DAYS} days reach ${year}, which has no official holiday arrangement; they are estimated from the lunar calendar until PUT /v1/calendar/${year} or calendar/${year}.json loads the notice`,
      );
    }
    return missing;
  }
}
