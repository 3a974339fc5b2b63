import { Body, Controller, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppealsService } from '@app/complaints';
import type { TicketView } from '@app/complaints';
import type { Actor } from '@app/shared';
import { CurrentActor, Roles } from '../http/auth';
import { IdParam } from '../http/id-param';
import { CallerThrottlerGuard } from '../http/rate-limit';
import { AppealDecisionRequest, AppealRequest } from './appeals.dto';
import { TicketTransition } from './ticket-transition';

@ApiTags('complaints')
@Controller('v1/complaints')
export class AppealsController {
  constructor(private readonly appeals: AppealsService) {}

  @Post(':id/appeal')
  @Roles('consumer')
  @UseGuards(CallerThrottlerGuard)
  @ApiOperation({
    summary: 'Appeal (申诉) a declined or mediation_failed decision → appealed',
    description:
      'Within the appeal window of the ticket’s rule set: appealWindowWorkdays working days (Asia/Shanghai calendar) after the decision, until the end of that day (422 APPEAL_WINDOW_EXPIRED after; the ticket shows appealableUntil). Once per ticket, also after an upheld appeal (409 INVALID_TRANSITION). reviewBy = now + the set’s reviewWorkdays working days (deadlineBasis.reviewBy says whether the calendar was official or estimated; recomputed when a year’s official notice is loaded). Event `appealed`.',
  })
  @TicketTransition('APPEAL_WINDOW_EXPIRED', 'RATE_LIMITED')
  appeal(
    @IdParam('id') id: string,
    @Body() body: AppealRequest,
    @CurrentActor() actor: Actor,
  ): Promise<TicketView> {
    return this.appeals.appeal(id, actor, body.reason);
  }

  @Post(':id/appeal/decision')
  @Roles('regulator', 'admin')
  @UseGuards(CallerThrottlerGuard)
  @ApiOperation({
    summary: 'Decide an appeal: upheld → back to the decision; overturned → reopened',
    description:
      'A regulator of the ticket’s office other than the officer who made the appealed decision (that officer, and an admin who made it: 403 FORBIDDEN), or an admin. A mediation terminated by the worker’s time limit may be reviewed by any officer of the office. Overturned: from declined → escalated with a new acceptBy; from mediation_failed → mediating with a new mediationEndBy (the limits of the ticket’s rule set, kept from its escalation; deadlineBasis records how each was counted). Event `appeal_decided` (never `escalated`: the statistics count a ticket’s escalation once).',
  })
  @TicketTransition('RATE_LIMITED')
  decide(
    @IdParam('id') id: string,
    @Body() body: AppealDecisionRequest,
    @CurrentActor() actor: Actor,
  ): Promise<TicketView> {
    return this.appeals.decide(id, actor, body.outcome, body.note);
  }
}
