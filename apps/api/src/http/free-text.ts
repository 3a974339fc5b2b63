import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

/** Free text (a reason, a note, a detail): at most this many characters (the dashboards' too). */
export const FREE_TEXT_MAX = 2000;

// Each applies its decorators in the order of the stack it stands for (a stack applies bottom-up),
// so class-validator reports a bad value's problems in the same order as before.

/** A required free-text field: a non-empty string of at most FREE_TEXT_MAX characters. */
export function FreeText(doc: { example?: string; description?: string } = {}) {
  return applyDecorators(
    MaxLength(FREE_TEXT_MAX),
    IsNotEmpty(),
    IsString(),
    ApiProperty({ maxLength: FREE_TEXT_MAX, ...doc }),
  );
}

/** An optional free-text field: absent, or a string of at most FREE_TEXT_MAX characters. */
export function OptionalFreeText() {
  return applyDecorators(
    MaxLength(FREE_TEXT_MAX),
    IsString(),
    IsOptional(),
    ApiPropertyOptional({ maxLength: FREE_TEXT_MAX }),
  );
}
