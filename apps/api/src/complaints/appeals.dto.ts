import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { APPEAL_OUTCOMES } from '@app/complaints';
import type { AppealOutcome } from '@app/complaints';
import { FreeText } from '../http/free-text';

export class AppealRequest {
  @FreeText({ example: '商家提供的聊天记录可以证明双方约定了退货，请重新受理。' })
  reason: string;
}

export class AppealDecisionRequest {
  @ApiProperty({
    enum: APPEAL_OUTCOMES,
    description:
      'upheld: the ticket goes back to the appealed decision; overturned: escalated again with a new acceptBy (appeal of declined) or mediating with a new mediationEndBy (appeal of mediation_failed)',
  })
  @IsIn(APPEAL_OUTCOMES)
  outcome: AppealOutcome;

  @FreeText({ description: 'the reasons, shown to the consumer' })
  note: string;
}
