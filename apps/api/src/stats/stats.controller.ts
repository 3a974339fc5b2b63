import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { StatsService } from '@app/complaints';
import { regionNameOrNull } from '@app/directory';
import type { CreditReport, SelfResolutionReport } from '@app/complaints';
import type { Actor } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { CurrentActor, Public, Roles } from '../http/auth';
import { IdParam } from '../http/id-param';

export class SelfResolutionQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-01',
    description:
      'first Shanghai day (default: 29 days before `to`); the period spans at most 366 days',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}$/)
  from?: string;
  @ApiPropertyOptional({
    example: '2026-11-30',
    description: 'last Shanghai day, inclusive (default: today)',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}$/)
  to?: string;
  @ApiPropertyOptional({
    example: '3301',
    description: 'region code or prefix; for a regulator, within its jurisdiction (else 403)',
  })
  @IsOptional()
  @Matches(/^\d{1,6}$/)
  regionCode?: string;
  @ApiPropertyOptional({
    description: "a merchant's id; merchants get their own whatever is asked (another id is 403)",
  })
  @IsOptional()
  @IsUUID()
  merchantId?: string;
}

class ByDayDto {
  @ApiProperty({ example: '2026-11-20', description: 'Shanghai day' }) day: string;
  @ApiProperty() selfResolved: number;
  @ApiProperty() verifiedSelfResolved: number;
  @ApiProperty() escalated: number;
  @ApiProperty({ nullable: true, type: Number }) rate: number | null;
  @ApiProperty({ nullable: true, type: Number }) verifiedRate: number | null;
}

export class SelfResolutionResponse {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '3301',
    description: 'the regionCode asked for, or null',
  })
  regionCode: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '杭州市',
    description:
      'the name of regionCode (GB/T 2260: a province, city or district by its 2, 4 or 6 digits; the code itself when unknown), or null',
  })
  regionName: string | null;
  @ApiProperty({
    description:
      'tickets that reached resolved in the period: an accepted offer carried out (settling → resolved by a recorded refund, the consumer’s confirmation, or no objection to a non-money offer at settleBy). Accepting alone counts nothing.',
  })
  selfResolved: number;
  @ApiProperty({
    description:
      'of selfResolved, those settled by a recorded refund or the consumer’s confirmation (settledVia refund | consumer); tickets resolved before verification existed (settledVia legacy) never count',
  })
  verifiedSelfResolved: number;
  @ApiProperty({ description: 'tickets escalated (any reason) in the period' }) escalated: number;
  @ApiProperty({ description: 'tickets withdrawn in the period (counted apart from the rate)' })
  withdrawn: number;
  @ApiProperty({
    description:
      'tickets in the merchant phase now (awaiting_merchant, in_negotiation or settling) within the scope, whatever the period: the one figure counted over the tickets (on a partial index of open tickets), not from the rollups',
  })
  open: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'selfResolved ÷ (selfResolved + escalated); null when both are 0',
  })
  rate: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'verifiedSelfResolved ÷ (selfResolved + escalated); null when both are 0. The figure a regulator can defend.',
  })
  verifiedRate: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      "merchant's first responses at or before merchantRespondBy ÷ (first responses + tickets that left the merchant phase unanswered after merchantRespondBy: escalated by the worker or the consumer, or withdrawn), counted on the day of the response or of leaving; null when there are none",
  })
  merchantOnTimeResponseRate: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'median hours from filing to self-resolution (offer carried out) of the tickets resolved in the period, from an hour histogram with bounds 1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 720 h: exact to the bucket, linearly interpolated inside it (so within one bucket width), rounded to 0.1 h; null when none',
  })
  medianHoursToResolve: number | null;
  @ApiProperty({
    type: [ByDayDto],
    description: 'every day of the period, oldest first, zeros included',
  })
  byDay: ByDayDto[];
}

class CreditComponentDto {
  @ApiProperty({
    enum: [
      'on_time_response',
      'self_resolution',
      'verified_self_resolution',
      'escalations',
      'mediation_outcomes',
    ],
  })
  name: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'the measure (a rate 0–1, or escalations per 100 tickets); null without data',
  })
  value: number | null;
  @ApiProperty({ description: 'most points this component can give' }) weight: number;
  @ApiProperty({ description: 'points earned, rounded to 0.1' }) points: number;
  @ApiProperty() explanation: string;
}

export class CreditResponse {
  @ApiProperty() merchantId: string;
  @ApiProperty({ example: 86.5, description: 'sum of the components’ points, 0–100' })
  score: number;
  @ApiProperty({
    description: 'tickets ever opened against the merchant: the evidence behind the score',
  })
  basis: number;
  @ApiProperty({ type: [CreditComponentDto] }) components: CreditComponentDto[];
}

class SerialComplainantDto {
  @ApiProperty({ example: 'alipay:2088102177846880' }) consumerId: string;
  @ApiProperty({ description: 'tickets filed since `since` (within the jurisdiction)' })
  tickets: number;
  @ApiProperty({ description: 'distinct merchants complained against' }) merchants: number;
  @ApiProperty() since: string;
}

class SerialComplainantsResponse {
  @ApiProperty({ type: [SerialComplainantDto] }) items: SerialComplainantDto[];
}

class RepeatOffenderDto {
  @ApiProperty() merchantId: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'escalations since `since` (within the jurisdiction)' })
  escalations: number;
  @ApiProperty({ example: '2026-08-25', description: 'first Shanghai day of the window' })
  since: string;
}

class RepeatOffendersResponse {
  @ApiProperty({ type: [RepeatOffenderDto] }) items: RepeatOffenderDto[];
}

@ApiTags('statistics')
@Controller()
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get('v1/stats/self-resolution')
  @Roles('merchant', 'regulator', 'admin')
  @ApiOperation({
    summary: 'Self-resolution rate and merchant measures, from the rollups',
    description:
      'Answered from daily rollups (Shanghai day × region; day × region × merchant when a merchant is in the scope). Tickets are counted on the Shanghai day they LEFT the merchant phase (resolved, escalated, withdrawn), not the day they were opened. Scope: admin all; regulator its office’s jurisdiction (its region prefixes; a regionCode outside it is 403); merchant itself (another merchantId is 403); consumers 403. Rollups lag the tickets by about a second (the worker drains the outbox every second or SWEEP_INTERVAL, whichever is shorter). A bad date, from after to, or a period over 366 days is 400.',
  })
  @ApiOkResponse({ type: SelfResolutionResponse })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN')
  async selfResolution(
    @Query() q: SelfResolutionQueryDto,
    @CurrentActor() actor: Actor,
  ): Promise<SelfResolutionReport & { regionCode: string | null; regionName: string | null }> {
    const report = await this.stats.selfResolution(actor, q);
    const regionCode = q.regionCode ?? null;
    return { ...report, regionCode, regionName: regionNameOrNull(regionCode) };
  }

  @Get('v1/stats/serial-complainants')
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary:
      'Consumers with many tickets against many merchants recently (regulators, admins only)',
    description:
      'At least SERIAL_COMPLAINANT_MIN_TICKETS tickets (5) against at least SERIAL_COMPLAINANT_MIN_MERCHANTS merchants (3) within SERIAL_COMPLAINANT_WINDOW (30d). Never shown to merchants.',
  })
  @ApiOkResponse({ type: SerialComplainantsResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN')
  async serial(@CurrentActor() actor: Actor) {
    return { items: await this.stats.serialComplainants(actor) };
  }

  @Get('v1/stats/repeat-offenders')
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary: 'Merchants with many escalations (regulators, admins only)',
    description:
      'At least REPEAT_OFFENDER_MIN_ESCALATIONS (10) escalations within REPEAT_OFFENDER_WINDOW (90d), from the rollups; a regulator sees the escalations in its jurisdiction.',
  })
  @ApiOkResponse({ type: RepeatOffendersResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN')
  async offenders(@CurrentActor() actor: Actor) {
    return { items: await this.stats.repeatOffenders(actor) };
  }

  @Get('v1/merchants/:merchantId/credit')
  @Public()
  @ApiOperation({
    summary: "A merchant's public credit score (0–100) with the components that explain it",
    description:
      'From all of the merchant’s rollups. score = sum of five components (weights 30 + 20 + 20 + 20 + 10 = 100), each point value rounded to 0.1: on_time_response = 30 × on-time rate (first responses at or before merchantRespondBy ÷ (first responses + tickets left unanswered past it)); self_resolution = 20 × self-resolved ÷ (self-resolved + escalated); verified_self_resolution = 20 × verified self-resolved (settled by a recorded refund or the consumer’s confirmation) ÷ (self-resolved + escalated), so verified settlements earn twice what unverified ones do; escalations = 20 × max(0, 1 − (escalations per 100 tickets opened) ÷ 50), so 0 escalations earn 20 and 50 or more per 100 earn 0; mediation_outcomes = 10 × mediations ending in agreement ÷ mediations closed (agreed + failed). A component without data (value null) earns its full weight: no complaints is no evidence against the merchant; `basis` (tickets opened) says how much evidence there is. Unknown merchant: 404.',
  })
  @ApiOkResponse({ type: CreditResponse })
  @ApiProblems('NOT_FOUND')
  credit(@IdParam('merchantId') id: string): Promise<CreditReport> {
    return this.stats.credit(id);
  }
}
