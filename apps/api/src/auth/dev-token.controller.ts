import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { DomainError, HEJIE_CONFIG, ROLES, parseDuration } from '@app/shared';
import type { HejieConfig, Role } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { Public } from '../http/auth';
import { signOptions } from './verify-token';

/** The longest lifetime a dev token may ask for (API.md: at most 24h). */
export const DEV_TOKEN_MAX_MS = 24 * 60 * 60 * 1000;

function durationAtMost(value: unknown, maxMs: number): boolean {
  try {
    if (typeof value !== 'string') return false;
    const ms = parseDuration(value);
    return ms >= 1000 && ms <= maxMs;
  } catch {
    return false;
  }
}

export class DevTokenRequest {
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role: Role;
  @ApiProperty({ example: 'alipay:2088102177846880' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  sub: string;
  @ApiPropertyOptional({ description: 'required for role merchant' })
  @ValidateIf((o: DevTokenRequest) => o.role === 'merchant' || o.merchantId !== undefined)
  @IsUUID()
  merchantId?: string;
  @ApiPropertyOptional({ description: 'required for role regulator' })
  @ValidateIf((o: DevTokenRequest) => o.role === 'regulator' || o.officeId !== undefined)
  @IsUUID()
  officeId?: string;
  @ApiPropertyOptional({
    description:
      'lifetime: a positive integer and a unit (s, m, h, d), at most 24h; 12h by default',
    example: '2h',
  })
  @IsOptional()
  @IsString()
  @ValidateBy({
    name: 'durationAtMost24h',
    validator: {
      validate: (v) => durationAtMost(v, DEV_TOKEN_MAX_MS),
      defaultMessage: () => 'expiresIn must be a duration like 90s, 15m or 12h, at most 24h',
    },
  })
  expiresIn?: string;
}

export class DevTokenResponse {
  @ApiProperty({ example: 'eyJhbGciOi…', description: 'a signed JWT for the demo identity' })
  token: string;
}

/**
 * Demo sign-in: mints a token for any identity. Exists only when AUTH_DEV_LOGIN=true; otherwise
 * the route answers 404 as if it were not there. In production tokens come from the operator's
 * identity provider, signed with JWT_SECRET.
 */
@ApiTags('auth')
@Controller('v1/auth')
export class DevTokenController {
  constructor(
    private readonly jwt: JwtService,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {}

  @Post('dev-token')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Mint a token for a demo identity (only when AUTH_DEV_LOGIN=true)' })
  @ApiOkResponse({ type: DevTokenResponse })
  @ApiProblems('VALIDATION_FAILED', 'NOT_FOUND')
  issue(@Body() body: DevTokenRequest): { token: string } {
    if (!this.config.authDevLogin) throw new DomainError('NOT_FOUND', 'no such resource');
    const claims: Record<string, string> = { sub: body.sub, role: body.role };
    if (body.merchantId) claims.merchantId = body.merchantId;
    if (body.officeId) claims.officeId = body.officeId;
    const token = this.jwt.sign(claims, {
      algorithm: 'HS256',
      expiresIn: Math.floor(parseDuration(body.expiresIn ?? '12h') / 1000),
      ...signOptions(this.config),
    });
    return { token };
  }
}
