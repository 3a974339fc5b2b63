import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_LIMIT } from '@app/shared';

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

/** A page of a list: `{ items, nextCursor }` (nextCursor null on the last page). */
export function pageSchema(itemRef: string) {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: { $ref: itemRef } },
      nextCursor: { type: 'string', nullable: true },
    },
  };
}

/** A whole list in one answer: `{ items }` (a ticket's trail, its offers). */
export function itemsSchema(itemRef: string) {
  return {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: { $ref: itemRef } } },
  };
}
