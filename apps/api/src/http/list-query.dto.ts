import { applyDecorators } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { ApiOkResponse, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_LIMIT } from '@app/shared';
import type { ErrorCode } from '@app/shared';
import { ApiProblems } from './api-problems';

export class ListQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_LIMIT, default: 20 })
  @IsOptional()
  @Transform(({ value }) =>
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'opaque cursor from a previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

// The model of a list is registered on its controller (@ApiExtraModels), which also keeps the
// place where the document lists its schema.

/** 200 with a page of `model`s: `{ items, nextCursor }` (nextCursor null on the last page). */
function ApiPageResponse(model: Type) {
  return ApiOkResponse({
    schema: {
      type: 'object',
      required: ['items', 'nextCursor'],
      properties: {
        items: { type: 'array', items: { $ref: getSchemaPath(model) } },
        nextCursor: { type: 'string', nullable: true },
      },
    },
  });
}

/**
 * A paged list route (its query a ListQuery): 200 with a page of `model`s, and the problems every
 * such list has (its query: limit, cursor, filters; its caller), then `more` (e.g. NOT_FOUND for
 * the stores of an unknown merchant).
 */
export function ApiPagedList(model: Type, ...more: ErrorCode[]) {
  return applyDecorators(
    ApiPageResponse(model),
    ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', ...more),
  );
}

/** 200 with a whole list of `model`s in one answer: `{ items }` (a ticket's trail, its offers). */
export function ApiItemsResponse(model: Type) {
  return ApiOkResponse({
    schema: {
      type: 'object',
      required: ['items'],
      properties: { items: { type: 'array', items: { $ref: getSchemaPath(model) } } },
    },
  });
}
