import { Body, Controller, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CalendarService, RulesService } from '@app/complaints';
import type { CalendarYear } from '@app/complaints';
import { DomainError } from '@app/shared';
import type { Actor } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { CurrentActor, Public, Roles } from '../http/auth';
import {
  CalendarResponse,
  CalendarVersionsResponse,
  PutCalendarRequest,
  RuleSetResponse,
  RuleSetsResponse,
} from './calendar.dto';

function yearParam(raw: string): number {
  if (!/^\d{4}$/.test(raw)) {
    throw new DomainError('VALIDATION_FAILED', 'year must be four digits', {}, [
      { field: 'year', message: 'four digits, e.g. 2027' },
    ]);
  }
  return Number(raw);
}

const view = (c: CalendarYear): CalendarResponse => ({
  year: c.year,
  source: c.source,
  version: c.version,
  notice: c.notice,
  holidays: c.holidays,
  workdays: c.workdays,
});

@ApiTags('calendar')
@Controller('v1')
export class CalendarController {
  constructor(
    private readonly calendar: CalendarService,
    private readonly rules: RulesService,
  ) {}

  @Get('calendar/:year')
  @Public()
  @ApiOperation({
    summary: 'The working-day calendar of a year: the latest official version, or an estimate',
    description:
      '`official`: the State Council notice as loaded (chinese-days data as version 1, then PUT or calendar/<year>.json). `estimated` (version 0): the statutory holidays of the measures in force that year, from the lunar calendar and the solar terms, plus a weekday off for each one on a weekend (Art. 6 补假); no 调休.',
  })
  @ApiParam({ name: 'year', type: String, example: '2027' })
  @ApiOkResponse({ type: CalendarResponse })
  @ApiProblems('VALIDATION_FAILED')
  async get(@Param('year') year: string): Promise<CalendarResponse> {
    return view(await this.calendar.year(yearParam(year)));
  }

  @Get('calendar/:year/versions')
  @Public()
  @ApiOperation({
    summary: 'Every official version of a year, newest first (empty while it is estimated)',
  })
  @ApiParam({ name: 'year', example: '2026' })
  @ApiOkResponse({ type: CalendarVersionsResponse })
  @ApiProblems('VALIDATION_FAILED')
  async versions(@Param('year') year: string): Promise<CalendarVersionsResponse> {
    const items = await this.calendar.versions(yearParam(year));
    return {
      items: items.map((c) => ({ ...view(c), loadedFrom: c.loadedFrom!, createdAt: c.createdAt! })),
    };
  }

  @Put('calendar/:year')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: "Load a year's official arrangement (admin) → the new official version",
    description:
      'Older versions are kept. Days must be dates of that year; workdays (调休) Saturdays or Sundays; no day both. The same days as the latest version add nothing (a changed notice title/date is corrected in place). A new version makes the worker recompute every running deadline counted on an estimate or an older version, each with a `deadline_changed` event; none moves into the past (never before the end of the current day, Asia/Shanghai).',
  })
  @ApiParam({ name: 'year', type: String, example: '2027' })
  @ApiOkResponse({ type: CalendarResponse })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN')
  async put(
    @Param('year') year: string,
    @Body() body: PutCalendarRequest,
    @CurrentActor() actor: Actor,
  ): Promise<CalendarResponse> {
    const r = await this.calendar.load(
      yearParam(year),
      {
        notice: { ...body.notice, date: body.notice.date ?? null },
        holidays: body.holidays,
        workdays: body.workdays,
      },
      `api:${actor.sub}`,
    );
    return view(r.calendar);
  }

  @Get('rules')
  @Public()
  @ApiOperation({
    summary: 'The rule sets (time limits) offices and tickets use',
    description:
      "The sets are data: one file per set in RULE_SETS_DIR (the repository's rules/<id>.json by default), validated and loaded at start-up; an operator adds a set or changes a limit (with a version bump) there, without a release. REGULATOR_ACCEPT_WORKDAYS and MEDIATION_WORKDAYS, when set, override the national set's two limits. A ticket keeps the limits of the set it was escalated under.",
  })
  @ApiOkResponse({ type: RuleSetsResponse })
  rulesList(): RuleSetsResponse {
    return {
      items: this.rules.sets.map((s): RuleSetResponse => ({
        ...s,
        default: s.id === this.rules.defaultId,
      })),
    };
  }
}
