import { HttpCode, applyDecorators } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import type { ErrorCode } from '@app/shared';
import { ApiTicketWriteProblems } from '../http/api-problems';
import { TicketResponse } from './complaints.dto';

/**
 * A lifecycle action on one ticket that takes a body (withdraw, escalate, decline, transfer,
 * appeal…): 200 with the ticket as it now is, and the problems of a write on a ticket
 * (ApiTicketWriteProblems), then `more`. Accepting an offer or a case takes no body and states its
 * own problems.
 */
export function TicketTransition(...more: ErrorCode[]) {
  return applyDecorators(
    HttpCode(200),
    ApiOkResponse({ type: TicketResponse }),
    ApiTicketWriteProblems(...more),
  );
}
