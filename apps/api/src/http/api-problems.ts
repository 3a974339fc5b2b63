import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode, ROLES, statusOf, titleOf } from '@app/shared';
import { Roles } from './auth';

export class FieldErrorDto {
  @ApiProperty({ example: 'description' }) field: string;
  @ApiProperty({ example: 'description must be longer than or equal to 10 characters' })
  message: string;
  @ApiPropertyOptional({ description: 'line number (batch import)' }) line?: number;
}

/** RFC 9457 problem details, with the contract's stable `code`. */
export class ProblemDto {
  @ApiProperty({ example: 'https://hejie.dev/problems/validation-failed' }) type: string;
  @ApiProperty({ example: 'Request validation failed' }) title: string;
  @ApiProperty({ example: 400 }) status: number;
  @ApiProperty({
    example: 'description: description must be longer than or equal to 10 characters',
  })
  detail: string;
  @ApiProperty({ enum: ERROR_CODES, example: 'VALIDATION_FAILED' }) code: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) errors?: FieldErrorDto[];
}

/** Documents, per route, which problem codes it can answer with (grouped by status). */
export function ApiProblems(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) byStatus.set(statusOf(c), [...(byStatus.get(statusOf(c)) ?? []), c]);
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...[...byStatus.entries()].map(([status, cs]) =>
      ApiResponse({
        status,
        description: cs.map((c) => `\`${c}\`: ${titleOf(c)}`).join('; '),
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}

/**
 * The problems of a write on an existing resource (a ticket, a merchant, an office): a bad body,
 * the caller, the resource, then `more` (e.g. INVALID_TRANSITION for a ticket's state).
 */
export function ApiWriteProblems(...more: ErrorCode[]) {
  return ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', ...more);
}

/** The problems of a write on one ticket: ApiWriteProblems with INVALID_TRANSITION, then `more`. */
export function ApiTicketWriteProblems(...more: ErrorCode[]) {
  return ApiWriteProblems('INVALID_TRANSITION', ...more);
}

/**
 * A read of one ticket (the ticket, its offers, trail, evidence, case packet…) by whoever may see
 * it: every role with a token may ask, and the ticket decides: one the caller may not see is
 * NOT_FOUND, never FORBIDDEN. Then `more` (e.g. VALIDATION_FAILED for a route with a query).
 */
export function TicketRead(...more: ErrorCode[]) {
  return applyDecorators(Roles(...ROLES), ApiProblems('UNAUTHENTICATED', 'NOT_FOUND', ...more));
}
