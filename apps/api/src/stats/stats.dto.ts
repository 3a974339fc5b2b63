import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { CREDIT_COMPONENT_NAMES } from '@app/complaints';
import type {
  CreditComponent,
  CreditReport,
  SelfResolutionReport,
  StatsService,
} from '@app/complaints';
import type { Expect, Same } from '../http/contracts';

export class SelfResolutionQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-01',
    description:
      'first Shanghai day (default: 29 days before `to`); the period spans at most 366 days',
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
  @ApiPropertyOptional({
    example: '3301',
    description: 'region code or prefix; for a regulator, within its jurisdiction (else 403)',
  })
  @IsOptional()
  @Matches(/^\d{1,6}$/)
  regionCode?: string;
  @ApiPropertyOptional({
    description: "a merchant's id; merchants get their own whatever is asked (another id is 403)",
  })
  @IsOptional()
  @IsUUID()
  merchantId?: string;
}

class ByDayDto {
  @ApiProperty({ example: '2026-11-20', description: 'Shanghai day' }) day: string;
  @ApiProperty() selfResolved: number;
  @ApiProperty() verifiedSelfResolved: number;
  @ApiProperty() escalated: number;
  @ApiProperty({ nullable: true, type: Number }) rate: number | null;
  @ApiProperty({ nullable: true, type: Number }) verifiedRate: number | null;
}

export class SelfResolutionResponse {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '3301',
    description: 'the regionCode asked for, or null',
  })
  regionCode: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '杭州市',
    description:
      'the name of regionCode (GB/T 2260: a province, city or district by its 2, 4 or 6 digits; the code itself when unknown), or null',
  })
  regionName: string | null;
  @ApiProperty({
    description:
      'tickets that reached resolved in the period: an accepted offer carried out (settling → resolved by a recorded refund, the consumer’s confirmation, or no objection to a non-money offer at settleBy). Accepting alone counts nothing.',
  })
  selfResolved: number;
  @ApiProperty({
    description:
      'of selfResolved, those settled by a recorded refund or the consumer’s confirmation (settledVia refund | consumer); tickets resolved before verification existed (settledVia legacy) never count',
  })
  verifiedSelfResolved: number;
  @ApiProperty({ description: 'tickets escalated (any reason) in the period' }) escalated: number;
  @ApiProperty({ description: 'tickets withdrawn in the period (counted apart from the rate)' })
  withdrawn: number;
  @ApiProperty({
    description:
      'tickets in the merchant phase now (awaiting_merchant, in_negotiation or settling) within the scope, whatever the period: the one figure counted over the tickets (on a partial index of open tickets), not from the rollups',
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
      'verifiedSelfResolved ÷ (selfResolved + escalated); null when both are 0. The figure a regulator can defend.',
  })
  verifiedRate: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      "merchant's first responses at or before merchantRespondBy ÷ (first responses + tickets that left the merchant phase unanswered after merchantRespondBy: escalated by the worker or the consumer, or withdrawn), counted on the day of the response or of leaving; null when there are none",
  })
  merchantOnTimeResponseRate: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'median hours from filing to self-resolution (offer carried out) of the tickets resolved in the period, from an hour histogram with bounds 1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 720 h: exact to the bucket, linearly interpolated inside it (so within one bucket width), rounded to 0.1 h; null when none',
  })
  medianHoursToResolve: number | null;
  @ApiProperty({
    type: [ByDayDto],
    description: 'every day of the period, oldest first, zeros included',
  })
  byDay: ByDayDto[];
}

class CreditComponentDto {
  @ApiProperty({ enum: CREDIT_COMPONENT_NAMES })
  name: CreditComponent['name'];
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'the measure (a rate 0–1, or escalations per 100 tickets); null without data',
  })
  value: number | null;
  @ApiProperty({ description: 'most points this component can give' }) weight: number;
  @ApiProperty({ description: 'points earned, rounded to 0.1' }) points: number;
  @ApiProperty() explanation: string;
}

export class CreditResponse {
  @ApiProperty() merchantId: string;
  @ApiProperty({ example: 86.5, description: 'sum of the components’ points, 0–100' })
  score: number;
  @ApiProperty({
    description: 'tickets ever opened against the merchant: the evidence behind the score',
  })
  basis: number;
  @ApiProperty({ type: [CreditComponentDto] }) components: CreditComponentDto[];
}

class SerialComplainantDto {
  @ApiProperty({ example: 'alipay:2088102177846880' }) consumerId: string;
  @ApiProperty({ description: 'tickets filed since `since` (within the jurisdiction)' })
  tickets: number;
  @ApiProperty({ description: 'distinct merchants complained against' }) merchants: number;
  @ApiProperty() since: string;
}

export class SerialComplainantsResponse {
  @ApiProperty({ type: [SerialComplainantDto] }) items: SerialComplainantDto[];
}

class RepeatOffenderDto {
  @ApiProperty() merchantId: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'escalations since `since` (within the jurisdiction)' })
  escalations: number;
  @ApiProperty({ example: '2026-08-25', description: 'first Shanghai day of the window' })
  since: string;
}

export class RepeatOffendersResponse {
  @ApiProperty({ type: [RepeatOffenderDto] }) items: RepeatOffenderDto[];
}

/* The documented statistics are the service's reports (../http/contracts.ts). */
type ListItem<M extends 'serialComplainants' | 'repeatOffenders'> = Awaited<
  ReturnType<StatsService[M]>
>[number];
export type StatsContracts = [
  Expect<
    Same<
      SelfResolutionReport & { regionCode: string | null; regionName: string | null },
      SelfResolutionResponse
    >
  >,
  Expect<Same<CreditReport, CreditResponse>>,
  Expect<Same<ListItem<'serialComplainants'>, SerialComplainantDto>>,
  Expect<Same<ListItem<'repeatOffenders'>, RepeatOffenderDto>>,
];
