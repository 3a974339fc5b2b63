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
import type { CreditReport, SelfResolutionReport } from '@app/complaints';
import type { Actor } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { CurrentActor, Public, Roles } from '../http/auth';
import { IdParam } from '../http/id-param';

export class SelfResolutionQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-01',
    description: 'first Shanghai day (default: 29 days before `to`)',
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
  @ApiPropertyOptional({ example: '3301', description: 'region code or prefix' })
  @IsOptional()
  @Matches(/^\d{1,6}$/)
  regionCode?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() merchantId?: string;
}

class ByDayDto {
  @ApiProperty() day: string;
  @ApiProperty() selfResolved: number;
  @ApiProperty() escalated: number;
  @ApiProperty({ nullable: true, type: Number }) rate: number | null;
}

export class SelfResolutionResponse {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({
    description: 'tickets resolved by the consumer accepting an offer, in the period',
  })
  selfResolved: number;
  @ApiProperty({ description: 'tickets escalated (any reason) in the period' }) escalated: number;
  @ApiProperty({ description: 'tickets withdrawn in the period (counted apart from the rate)' })
  withdrawn: number;
  @ApiProperty({
    description:
      'tickets in the merchant phase now, within the scope (opened − left, from rollups)',
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
      'first responses within merchantRespondBy ÷ (first responses + no-response escalations)',
  })
  merchantOnTimeResponseRate: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'median hours from filing to self-resolution, from an hour histogram (exact to the bucket, interpolated inside)',
  })
  medianHoursToResolve: number | null;
  @ApiProperty({ type: [ByDayDto] }) byDay: ByDayDto[];
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
      'Tickets are counted on the Shanghai day they left the merchant phase. Scope: admin all; regulator its jurisdiction (a regionCode outside it is 403); merchant itself (another merchantId is 403); consumers 403. Rollups lag the tickets by at most a second or two (the worker drains the outbox).',
  })
  @ApiOkResponse({ type: SelfResolutionResponse })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN')
  selfResolution(
    @Query() q: SelfResolutionQueryDto,
    @CurrentActor() actor: Actor,
  ): Promise<SelfResolutionReport> {
    return this.stats.selfResolution(actor, q);
  }

  @Get('v1/stats/serial-complainants')
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary:
      'Consumers with many tickets against many merchants recently (regulators, admins only)',
    description:
      'At least SERIAL_COMPLAINANT_MIN_TICKETS tickets (5) against at least SERIAL_COMPLAINANT_MIN_MERCHANTS merchants (3) within SERIAL_COMPLAINANT_WINDOW (30d). Never shown to merchants.',
  })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN')
  async serial(@CurrentActor() actor: Actor) {
    return { items: await this.stats.serialComplainants(actor) };
  }

  @Get('v1/stats/repeat-offenders')
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary: 'Merchants with many escalations (regulators, admins only)',
    description:
      'At least REPEAT_OFFENDER_MIN_ESCALATIONS (10) escalations within REPEAT_OFFENDER_WINDOW (90d).',
  })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN')
  async offenders(@CurrentActor() actor: Actor) {
    return { items: await this.stats.repeatOffenders(actor) };
  }

  @Get('v1/merchants/:merchantId/credit')
  @Public()
  @ApiOperation({
    summary: "A merchant's public credit score (0–100) with the components that explain it",
    description:
      'Sum of four components: on_time_response = on-time first-response rate × 30; self_resolution = self-resolution rate × 40; escalations = 20 × max(0, 1 − escalations per 100 tickets ÷ 50); mediation_outcomes = share of closed mediations ending in agreement × 10. A component without data earns its full weight; `basis` is the number of tickets the score rests on.',
  })
  @ApiOkResponse({
    schema: {
      example: {
        merchantId: '…',
        score: 86.5,
        basis: 40,
        components: [
          { name: 'on_time_response', value: 0.9, weight: 30, points: 27, explanation: '…' },
        ],
      },
    },
  })
  @ApiProblems('NOT_FOUND')
  credit(@IdParam('merchantId') id: string): Promise<CreditReport> {
    return this.stats.credit(id);
  }
}
