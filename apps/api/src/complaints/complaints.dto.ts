import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  ACTOR_ROLES,
  CATEGORIES,
  DECLINE_REASONS,
  DEMAND_TYPES,
  ESCALATION_REASONS,
  SETTLED_VIA,
  PACKET_FIELDS,
  TICKET_STATUSES,
  VIEWER_ACTIONS,
} from '@app/complaints';
import { MAX_AMOUNT_MINOR } from '@app/shared';
import type {
  AppealOutcome,
  Category,
  DeclineReason,
  DemandType,
  EscalationReason,
  OfferStatus,
  OfferView,
  SettledVia,
  TicketStatus,
  TicketView,
  ViewerAction,
  WithdrawReason,
} from '@app/complaints';
import type { Assignable, Expect, Same } from '../http/contracts';
import { FREE_TEXT_MAX, FreeText, OptionalFreeText } from '../http/free-text';
import { ListQuery } from '../http/list-query.dto';
import { ApiRegionName } from '../directory/directory.dto';
import { ComplainantRequest } from './evidence.dto';

export class DemandDto {
  @ApiProperty({ enum: DEMAND_TYPES }) @IsIn(DEMAND_TYPES) type: DemandType;
  @ApiPropertyOptional({
    description:
      'minor units; required for refund, partial_refund and compensation; a refund may not exceed the amount paid (422 DEMAND_EXCEEDS_PAYMENT); at most 10^12 (400)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_AMOUNT_MINOR)
  amountMinor?: number;
}

export class CreateComplaintRequest {
  @ApiProperty() @IsUUID() receiptId: string;
  @ApiProperty({ enum: CATEGORIES }) @IsIn(CATEGORIES) category: Category;
  @ApiProperty({ type: DemandDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => DemandDto)
  demand: DemandDto;
  @ApiProperty({ minLength: 10, maxLength: 2000 })
  @IsString()
  @Length(10, 2000)
  description: string;
  @ApiPropertyOptional({
    example: '13812345678',
    description:
      'mainland mobile number; stored encrypted (AES-256-GCM), shown masked to the merchant',
  })
  @IsOptional()
  @IsString()
  @Matches(/^1[3-9]\d{9}$/, {
    message: 'contactPhone must be a mainland mobile number (11 digits)',
  })
  contactPhone?: string;
}

export class MessageRequest {
  @ApiProperty({ maxLength: 4000 }) @IsString() @IsNotEmpty() @MaxLength(4000) body: string;
}

export class MessageResponse {
  @ApiProperty({ example: 3, description: "the message's event in the trail" }) seq: number;
  @ApiProperty({ example: '2026-11-23T10:00:00.000Z' }) at: string;
}

export class OfferRequest {
  @ApiProperty({ enum: DEMAND_TYPES }) @IsIn(DEMAND_TYPES) type: DemandType;
  @ApiPropertyOptional({
    description:
      'minor units; required for refund, partial_refund and compensation; a refund or partial_refund offer may not exceed the amount paid (422 DEMAND_EXCEEDS_PAYMENT); at most 10^12 (400)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_AMOUNT_MINOR)
  amountMinor?: number;
  @OptionalFreeText()
  note?: string;
}

export class ReasonRequest {
  @OptionalFreeText()
  reason?: string;
}

export class EscalateRequest {
  @FreeText({ example: 'The merchant refused a refund for a broken kettle.' })
  reason: string;
  @ApiPropertyOptional({
    type: ComplainantRequest,
    description:
      'the case packet’s complainant details, given with the escalation (same as PUT …/complainant; never shown to the merchant)',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ComplainantRequest)
  complainant?: ComplainantRequest;
}

/** POST …/settlement/dispute: why the accepted offer was not carried out. */
export class DisputeSettlementRequest {
  @FreeText({ example: 'The refund of ¥30.00 never arrived.' })
  reason: string;
}

/** POST …/settlement/confirm takes an empty body or `{}`. */
export class ConfirmSettlementRequest {}

export class DeclineRequest {
  @ApiProperty({
    enum: DECLINE_REASONS,
    description:
      'outside_jurisdiction: not the duty or territory of this office; court_or_arbitration: already before a court or arbitration body; handled_elsewhere: already handled by another body; no_clear_claim: no clear claim, or repeated without new facts; time_barred: beyond the limitation period; identity_unverified: the complainant could not be identified; other: explain in detail',
  })
  @IsIn(DECLINE_REASONS)
  reason: DeclineReason;
  @OptionalFreeText()
  detail?: string;
}

export class ExtendRequest {
  @ApiProperty({ enum: ['acceptBy', 'mediationEndBy'] })
  @IsIn(['acceptBy', 'mediationEndBy'])
  deadline: 'acceptBy' | 'mediationEndBy';
  @ApiProperty({
    minimum: 1,
    description: "working days, at most the rule set's maxExtensionWorkdays",
  })
  @IsInt()
  @Min(1)
  workdays: number;
  @ApiProperty({
    minLength: 10,
    maxLength: 500,
    description: 'shown to the consumer on the ticket',
  })
  @IsString()
  @Length(10, 500)
  reason: string;
}

export class ExtensionResponse {
  @ApiProperty({ enum: ['acceptBy', 'mediationEndBy'] }) deadline: string;
  @ApiProperty() workdays: number;
  @ApiProperty() reason: string;
  @ApiProperty() at: string;
}

export class TransferRequest {
  @ApiProperty() @IsUUID() officeId: string;
}

export class MediationRequest {
  @ApiProperty({ enum: ['agreement', 'failed'] }) @IsIn(['agreement', 'failed']) outcome:
    'agreement' | 'failed';
  @OptionalFreeText()
  note?: string;
  @ApiPropertyOptional({
    maxLength: FREE_TEXT_MAX,
    description:
      'what the parties agreed: required (not blank) when outcome is agreement, else 400 VALIDATION_FAILED',
  })
  @ValidateIf((o: MediationRequest) => o.outcome === 'agreement' || o.settlement !== undefined)
  @IsString()
  @Matches(/\S/, { message: 'settlement must say what was agreed' })
  @MaxLength(FREE_TEXT_MAX)
  settlement?: string;
}

export class ComplaintListQuery extends ListQuery {
  @ApiPropertyOptional({
    enum: TICKET_STATUSES,
    description: 'merchants without a status see their open merchant-phase tickets',
  })
  @IsOptional()
  @IsIn(TICKET_STATUSES)
  status?: TicketStatus;

  @ApiPropertyOptional({ description: "admins: escalated tickets no office's region covers" })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsIn([true, false])
  unassigned?: boolean;
}

export class OrderDto {
  @ApiProperty() tradeNo: string;
  @ApiProperty() provider: string;
  @ApiProperty() amountMinor: number;
  @ApiProperty() currency: string;
  @ApiProperty() paidAt: string;
  @ApiProperty() subject: string;
  @ApiProperty() storeName: string;
  @ApiProperty() storeAddress: string;
  @ApiProperty() merchantName: string;
}

export class SettlementDto {
  @ApiProperty({ description: 'the accepted offer' }) offerId: string;
  @ApiProperty({ enum: DEMAND_TYPES }) type: DemandType;
  @ApiProperty({ nullable: true, type: Number }) amountMinor: number | null;
  @ApiProperty({ description: 'accepted + SETTLEMENT_SLA' }) settleBy: string;
  @ApiProperty({ description: 'refunds recorded for the receipt since the ticket was opened' })
  refundedMinor: number;
  @ApiProperty({ nullable: true, type: String }) settledAt: string | null;
  @ApiProperty({
    nullable: true,
    enum: SETTLED_VIA,
    description:
      'refund (a recorded refund reached the amount), consumer (confirmed), no_objection (non-money offer, settleBy passed), legacy (resolved before verification existed)',
  })
  settledVia: SettledVia | null;
}

export class AppealDto {
  @ApiProperty({ enum: ['declined', 'mediation_failed'], description: 'the appealed decision' })
  from: TicketStatus;
  @ApiProperty() reason: string;
  @ApiProperty() appealedAt: string;
  @ApiProperty() reviewBy: string;
  @ApiProperty({ nullable: true, enum: ['upheld', 'overturned'] }) outcome: AppealOutcome | null;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ nullable: true, type: String }) decidedAt: string | null;
}

export class CasePacketStatusDto {
  @ApiProperty() complete: boolean;
  @ApiProperty({ enum: PACKET_FIELDS, isArray: true }) missing: string[];
}

/** A ticket's demand as the API answers it (amountMinor null for non-money demands). */
export class DemandView {
  @ApiProperty({ enum: DEMAND_TYPES }) type: DemandType;
  @ApiProperty({ nullable: true, type: Number, description: 'minor units' })
  amountMinor: number | null;
}

export class TicketResponse {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'HJ-261123-000042' }) number: string;
  @ApiProperty({ enum: TICKET_STATUSES }) status: TicketStatus;
  @ApiProperty() receiptId: string;
  @ApiProperty() consumerId: string;
  @ApiProperty() merchantId: string;
  @ApiProperty() storeId: string;
  @ApiProperty() regionCode: string;
  @ApiRegionName() regionName: string;
  @ApiProperty({ type: OrderDto }) order: OrderDto;
  @ApiProperty({ enum: CATEGORIES }) category: Category;
  @ApiProperty({ type: DemandView }) demand: DemandView;
  @ApiProperty() description: string;
  @ApiProperty({ nullable: true, type: String, description: 'masked (138****5678) for merchants' })
  contactPhone: string | null;
  @ApiProperty() merchantRespondBy: string;
  @ApiProperty() resolveBy: string;
  @ApiProperty({ nullable: true, type: String }) firstResponseAt: string | null;
  @ApiProperty({ nullable: true, type: String }) pendingOfferId: string | null;
  @ApiProperty({ nullable: true, type: String }) officeId: string | null;
  @ApiProperty({ nullable: true, type: String }) escalatedAt: string | null;
  @ApiProperty({ nullable: true, enum: ESCALATION_REASONS })
  escalationReason: EscalationReason | null;
  @ApiProperty({ nullable: true, type: String }) acceptBy: string | null;
  @ApiProperty({ description: 'escalated and past acceptBy without a decision' })
  acceptanceOverdue: boolean;
  @ApiProperty({ nullable: true, type: String }) acceptedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) mediationEndBy: string | null;
  @ApiProperty({ nullable: true, enum: DECLINE_REASONS }) declineReason: DeclineReason | null;
  @ApiProperty({ nullable: true, type: String }) declineDetail: string | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'what the office recorded (outcome, note, settlement) once mediation ended',
  })
  mediationOutcome: unknown;
  @ApiProperty({ nullable: true, type: String }) closedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: SettlementDto,
    description: 'set once an offer was accepted (settling, then resolved or escalated)',
  })
  settlement: SettlementDto | null;
  @ApiProperty({ nullable: true, enum: SETTLED_VIA }) settledVia: SettledVia | null;
  @ApiProperty({ nullable: true, enum: ['consumer', 'consumer_no_reply'] })
  withdrawReason: WithdrawReason | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'the rule set the ticket was escalated under (GET /v1/rules); kept through transfers',
  })
  ruleSet: string | null;
  @ApiProperty({
    description:
      'per deadline (acceptBy, mediationEndBy, reviewBy): "official" or "estimated" (a year whose State Council notice was not loaded when it was computed)',
    example: { acceptBy: 'official', mediationEndBy: 'estimated' },
    type: 'object',
    additionalProperties: { type: 'string', enum: ['official', 'estimated'] },
  })
  deadlineBasis: Record<string, 'official' | 'estimated'>;
  @ApiProperty({ type: () => [ExtensionResponse] }) extensions: ExtensionResponse[];
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'declined / mediation_failed, not yet appealed: end of the appeal window (the rule set’s appealWindowWorkdays working days after the decision); null otherwise',
  })
  appealableUntil: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'review deadline of the appeal' })
  reviewBy: string | null;
  @ApiProperty({ description: 'appealed and past reviewBy without a decision' })
  appealReviewOverdue: boolean;
  @ApiProperty({ nullable: true, type: () => AppealDto }) appeal: AppealDto | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description:
      'GET one ticket, once escalated (consumer, office, admin): the name of the office that has the case',
  })
  officeName?: string | null;
  @ApiPropertyOptional({
    type: CasePacketStatusDto,
    description:
      'GET one ticket, once escalated (consumer, office, admin): what the 12315 office still needs before it may accept',
  })
  casePacket?: CasePacketStatusDto;
  @ApiPropertyOptional({
    description:
      'GET one ticket and lists, regulators and admins only: the consumer files many tickets against many merchants',
  })
  serialComplainant?: boolean;
  @ApiProperty({
    enum: VIEWER_ACTIONS,
    enumName: 'TicketAction',
    isArray: true,
    description:
      'what the caller may do on the ticket now, from the lifecycle table and the time rules (e.g. `escalate` only once the merchant responded or merchantRespondBy passed; `extend` once per deadline; `decide_appeal` not for the officer who made the appealed decision): message, offer, accept_offer, reject_offer (the pending offer), withdraw, escalate, confirm_settlement, dispute_settlement, appeal, add_case_details (PUT …/complainant), attach, accept_case, decline, transfer, extend, mediate, decide_appeal. A listed action can still be refused (409) when another party acted first.',
  })
  actions: ViewerAction[];
}

export class OfferResponse {
  @ApiProperty() id: string;
  @ApiProperty({ enum: DEMAND_TYPES }) type: DemandType;
  @ApiProperty({ nullable: true, type: Number }) amountMinor: number | null;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ enum: ['pending', 'accepted', 'rejected', 'superseded', 'lapsed', 'expired'] })
  status: OfferStatus;
  @ApiProperty({ nullable: true, type: String }) rejectReason: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) decidedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'made + OFFER_RESPONSE_SLA; unanswered by then, the ticket is withdrawn',
  })
  expiresAt: string | null;
}

export class EventActorDto {
  @ApiProperty({ enum: ACTOR_ROLES }) role: string;
  @ApiProperty({ nullable: true, type: String }) id: string | null;
}

export class EventResponse {
  @ApiProperty() seq: number;
  @ApiProperty({ example: 'offer_made' }) type: string;
  @ApiProperty({ type: EventActorDto }) actor: EventActorDto;
  @ApiProperty() at: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: unknown;
  @ApiProperty() prevHash: string;
  @ApiProperty({ description: 'sha256(prevHash ‖ canonical JSON of {seq, type, actor, at, data})' })
  hash: string;
}

export class VerifyResponse {
  @ApiProperty() valid: boolean;
  @ApiProperty() length: number;
  @ApiPropertyOptional() firstInvalidSeq?: number;
}

/*
 * The documented responses are the domain's views (../http/contracts.ts). The ticket's GET-only
 * extras (officeName, casePacket) are optional on the DTO and absent from the view.
 */
export type ResponseContracts = [
  Expect<Assignable<TicketView, TicketResponse>>,
  Expect<Assignable<Omit<TicketResponse, 'officeName' | 'casePacket'>, TicketView>>,
  Expect<Same<OfferView, OfferResponse>>,
];
