import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { HejieConfig } from '@app/shared';
import type { RulesService } from '../rules/rules.service';
import { CalendarService } from './calendar.service';
import { normaliseInput } from './calendar-year';
import type { CalendarInput } from './calendar-year';

/** The repository's calendar/ folder (CALENDAR_DIR's default, loaded at start-up). */
const REPO_CALENDAR = resolve(__dirname, '../../../../calendar');

/**
 * A CalendarService that must not reach PostgreSQL or Redis: every case below fails (or finds
 * nothing to load) before the first query, as a bad file has to.
 */
function serviceFor(dir: string): CalendarService {
  const unreachable = new Proxy(
    {},
    {
      get: (_t, key) => {
        throw new Error(`unexpected use of ${String(key)}`);
      },
    },
  );
  return new CalendarService(
    unreachable as DataSource,
    { calendarDir: dir } as HejieConfig,
    { now: () => new Date('2026-12-01T00:00:00Z') },
    unreachable as Queue,
    unreachable as RulesService,
  );
}

describe('calendar/ files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hejie-calendar-'));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });
  const write = (name: string, body: unknown) =>
    writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  const notice = { title: '国务院办公厅关于2035年部分节假日安排的通知', date: '2034-11-01' };

  it('the repository has one valid file a year, named after it, with the notice title and date', () => {
    const names = readdirSync(REPO_CALENDAR).filter((n) => n.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(1);
    for (const name of names) {
      expect(name).toMatch(/^\d{4}\.json$/);
      const year = Number(name.slice(0, 4));
      const file = JSON.parse(readFileSync(join(REPO_CALENDAR, name), 'utf8')) as CalendarInput & {
        year?: number;
      };
      expect(file.year ?? year).toBe(year);
      const checked = normaliseInput(year, file); // throws VALIDATION_FAILED on a bad day
      expect(checked.notice.title).toContain(`${year}年`);
      expect(checked.notice.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(checked.holidays.length).toBeGreaterThan(0);
    }
  });

  it('an invalid file stops start-up (a bad pull request fails the deploy)', async () => {
    write('2035.json', { notice, holidays: ['2035-01-01', '2034-12-31'], workdays: [] });
    await expect(serviceFor(dir).onApplicationBootstrap()).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'holidays[1]', message: 'not in 2035' }],
    });
    // The log names the offending entry (the process exits with the error's message only).
    expect(jest.mocked(Logger.prototype.error).mock.calls.map(([m]) => String(m))).toEqual([
      'calendar files not loaded: DomainError: calendar 2035 is not valid (holidays[1]: not in 2035)',
    ]);
  });

  it('a file that says another year than its name, or is not JSON, stops start-up', async () => {
    write('2035.json', { year: 2036, notice, holidays: ['2035-01-01'], workdays: [] });
    await expect(serviceFor(dir).onApplicationBootstrap()).rejects.toThrow(
      '2035.json says year 2036',
    );
    write('2035.json', '{ "notice": ');
    await expect(serviceFor(dir).onApplicationBootstrap()).rejects.toThrow(SyntaxError);
  });

  it('no folder, or no <year>.json in it: nothing is loaded', async () => {
    await expect(serviceFor(join(dir, 'missing')).loadFolder(join(dir, 'missing'))).resolves.toBe(
      0,
    );
    write('README.md', 'notes');
    write('2035.json.bak', '{');
    await expect(serviceFor(dir).loadFolder(dir)).resolves.toBe(0);
  });
});
