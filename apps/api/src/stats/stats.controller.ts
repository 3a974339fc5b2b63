import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StatsService } from '@app/complaints';
import { regionNameOrNull } from '@app/directory';
import type { CreditReport } from '@app/complaints';
import type { Actor } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { CurrentActor, Public, Roles } from '../http/auth';
import { IdParam } from '../http/id-param';
import {
  CreditResponse,
  RepeatOffendersResponse,
  SelfResolutionQueryDto,
  SelfResolutionResponse,
  SerialComplainantsResponse,
} from './stats.dto';

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
  ): Promise<SelfResolutionResponse> {
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
