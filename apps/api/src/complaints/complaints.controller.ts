import { Body, Controller, Get, Headers, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  CasePacketService,
  EscalationUseCase,
  IntakeUseCase,
  NegotiationUseCase,
  ReadingUseCase,
  RegulatorUseCase,
  SettlementService,
} from '@app/complaints';
import type { OfferView, TicketView, TrailEvent } from '@app/complaints';
import { DomainError, ROLES } from '@app/shared';
import type { Actor, Page } from '@app/shared';
import {
  ApiProblems,
  ApiTicketWriteProblems,
  ApiWriteProblems,
  TicketRead,
} from '../http/api-problems';
import { CurrentActor, Roles } from '../http/auth';
import { IdParam } from '../http/id-param';
import { ApiItemsResponse, ApiPagedList } from '../http/list-query.dto';
import { CallerThrottlerGuard } from '../http/rate-limit';
import {
  ComplaintListQuery,
  ConfirmSettlementRequest,
  DisputeSettlementRequest,
  CreateComplaintRequest,
  DeclineRequest,
  EscalateRequest,
  EventResponse,
  ExtendRequest,
  MediationRequest,
  MessageRequest,
  MessageResponse,
  OfferRequest,
  OfferResponse,
  ReasonRequest,
  TicketResponse,
  TransferRequest,
  VerifyResponse,
} from './complaints.dto';
import { TicketTransition } from './ticket-transition';

@ApiTags('complaints')
@ApiExtraModels(TicketResponse, OfferResponse, EventResponse)
@Controller('v1/complaints')
export class ComplaintsController {
  constructor(
    private readonly intake: IntakeUseCase,
    private readonly reading: ReadingUseCase,
    private readonly negotiation: NegotiationUseCase,
    private readonly escalation: EscalationUseCase,
    private readonly regulator: RegulatorUseCase,
    private readonly settlement: SettlementService,
    private readonly packets: CasePacketService,
  ) {}

  @Post()
  @Roles('consumer')
  @UseGuards(CallerThrottlerGuard)
  @ApiOperation({
    summary: 'Initiate resolution: turn a receipt into a ticket routed to its merchant',
    description:
      'Only the payer of the receipt (others: 404), within COMPLAINT_WINDOW_DAYS of payment, one ticket per receipt. The same Idempotency-Key replays the first response (201, same ticket). Rate-limited per caller (RATE_LIMIT per RATE_LIMIT_WINDOW) → 429 with Retry-After.',
  })
  @ApiHeader({
    name: 'idempotency-key',
    required: false,
    description: 'Idempotency-Key: up to 128 visible ASCII characters',
  })
  @ApiCreatedResponse({ type: TicketResponse })
  @ApiWriteProblems(
    'COMPLAINT_EXISTS',
    'COMPLAINT_WINDOW_EXPIRED',
    'DEMAND_EXCEEDS_PAYMENT',
    'MERCHANT_NOT_ENROLLED',
    'RATE_LIMITED',
  )
  async create(
    @Body() body: CreateComplaintRequest,
    @CurrentActor() actor: Actor,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<TicketView> {
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,128}$/.test(idempotencyKey)) {
      throw new DomainError(
        'VALIDATION_FAILED',
        'Idempotency-Key must be 1–128 visible ASCII characters',
        {},
        [{ field: 'Idempotency-Key', message: 'invalid' }],
      );
    }
    return (await this.intake.create(actor, body, idempotencyKey)).ticket;
  }

  @Get()
  @Roles(...ROLES)
  @ApiOperation({
    summary: 'Tickets the caller may see',
    description:
      'Consumer: own, newest first. Merchant: its own; without `status`, the open merchant-phase inbox, by merchantRespondBy ascending (most urgent first). Regulator: its office’s, oldest escalation first. Admin: all, newest first; `unassigned=true` lists escalated tickets no office covers.',
  })
  @ApiPagedList(TicketResponse)
  list(@Query() q: ComplaintListQuery, @CurrentActor() actor: Actor): Promise<Page<TicketView>> {
    return this.reading.list(actor, q);
  }

  @Get(':id')
  @TicketRead()
  @ApiOperation({
    summary: 'One ticket (a regulator’s view is recorded in the trail)',
    description:
      'Once escalated, the consumer, the office and admins also get `officeName` and `casePacket: { complete, missing }` (what the 12315 office still needs before it can accept).',
  })
  @ApiOkResponse({ type: TicketResponse })
  async get(@IdParam('id') id: string, @CurrentActor() actor: Actor): Promise<TicketView> {
    // After escalation: the office's name and what the case packet still needs (not merchants).
    return this.packets.withEscalationSummary(await this.reading.get(id, actor), actor);
  }

  @Post(':id/messages')
  @Roles(...ROLES)
  @UseGuards(CallerThrottlerGuard)
  @ApiOperation({
    summary: 'Add a message to the thread',
    description:
      "The merchant's first message records firstResponseAt and moves the ticket to in_negotiation.",
  })
  @ApiCreatedResponse({ type: MessageResponse })
  @ApiProblems(
    'VALIDATION_FAILED',
    'UNAUTHENTICATED',
    'NOT_FOUND',
    'INVALID_TRANSITION',
    'RATE_LIMITED',
  )
  message(@IdParam('id') id: string, @Body() body: MessageRequest, @CurrentActor() actor: Actor) {
    return this.negotiation.message(id, actor, body.body);
  }

  @Get(':id/offers')
  @TicketRead()
  @ApiOperation({ summary: 'Offer history, oldest first' })
  @ApiItemsResponse(OfferResponse)
  async offers(
    @IdParam('id') id: string,
    @CurrentActor() actor: Actor,
  ): Promise<{ items: OfferView[] }> {
    return { items: await this.reading.offers(id, actor) };
  }

  @Post(':id/offers')
  @Roles('merchant')
  @ApiOperation({ summary: 'Make a structured offer (supersedes the pending one)' })
  @ApiCreatedResponse({ type: OfferResponse })
  @ApiTicketWriteProblems()
  offer(
    @IdParam('id') id: string,
    @Body() body: OfferRequest,
    @CurrentActor() actor: Actor,
  ): Promise<OfferView> {
    return this.negotiation.makeOffer(id, actor, body);
  }

  @Post(':id/offers/:offerId/accept')
  @Roles('consumer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Accept the pending offer → settling (or resolved when refunds already cover it)',
    description:
      'The merchant now has to carry out the offer by settlement.settleBy (accepted + SETTLEMENT_SLA). A refund, partial_refund or compensation offer settles when the refunds recorded for the receipt since the ticket was opened reach its amount (settledVia refund) — straight away when they already do — or when the consumer confirms; other offers on confirmation, or at settleBy with no objection. An expired offer (past expiresAt, made + OFFER_RESPONSE_SLA) cannot be accepted: 409 INVALID_TRANSITION.',
  })
  @ApiOkResponse({ type: TicketResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_TRANSITION')
  accept(
    @IdParam('id') id: string,
    @IdParam('offerId') offerId: string,
    @CurrentActor() actor: Actor,
  ) {
    return this.negotiation.acceptOffer(id, actor, offerId);
  }

  @Post(':id/settlement/confirm')
  @Roles('consumer')
  @ApiOperation({
    summary: 'The consumer confirms the accepted offer was carried out → resolved',
    description:
      'Only while settling (409 INVALID_TRANSITION otherwise, e.g. when a refund or the deadline settled it first). settledVia "consumer": a verified self-resolution. Body empty or {}.',
  })
  @TicketTransition()
  confirmSettlement(
    @IdParam('id') id: string,
    @Body() _body: ConfirmSettlementRequest,
    @CurrentActor() actor: Actor,
  ) {
    return this.settlement.confirm(id, actor);
  }

  @Post(':id/settlement/dispute')
  @Roles('consumer')
  @ApiOperation({
    summary: 'The consumer says the accepted offer was not carried out → escalated',
    description:
      'Only while settling. Escalates with escalationReason settlement_not_fulfilled to the office of the store’s region, as an escalation does.',
  })
  @TicketTransition()
  disputeSettlement(
    @IdParam('id') id: string,
    @Body() body: DisputeSettlementRequest,
    @CurrentActor() actor: Actor,
  ) {
    return this.settlement.dispute(id, actor, body.reason);
  }

  @Post(':id/offers/:offerId/reject')
  @Roles('consumer')
  @ApiOperation({
    summary:
      'Reject the pending offer (the ticket stays in negotiation; escalation becomes possible)',
  })
  @TicketTransition()
  reject(
    @IdParam('id') id: string,
    @IdParam('offerId') offerId: string,
    @Body() body: ReasonRequest,
    @CurrentActor() actor: Actor,
  ) {
    return this.negotiation.rejectOffer(id, actor, offerId, body?.reason);
  }

  @Post(':id/withdraw')
  @Roles('consumer')
  @ApiOperation({ summary: 'Withdraw before escalation → withdrawn' })
  @TicketTransition()
  withdraw(@IdParam('id') id: string, @Body() body: ReasonRequest, @CurrentActor() actor: Actor) {
    return this.negotiation.withdraw(id, actor, body?.reason);
  }

  @Post(':id/escalate')
  @Roles('consumer')
  @ApiOperation({
    summary: 'Escalate to the regulator',
    description:
      'Refused with 409 ESCALATION_TOO_EARLY (body: availableAt) while awaiting_merchant before merchantRespondBy. The ticket goes to the office with the longest region-prefix match of the store; with none, it waits in the unassigned queue. The ticket takes the office’s rule set (GET /v1/rules; RULE_SET when the office names none) and keeps its limits: acceptBy = now + the set’s acceptWorkdays working days (mainland China calendar, Asia/Shanghai; end of that day), or + acceptHours clock hours.',
  })
  @TicketTransition('ESCALATION_TOO_EARLY')
  async escalate(
    @IdParam('id') id: string,
    @Body() body: EscalateRequest,
    @CurrentActor() actor: Actor,
  ) {
    const complainant = body.complainant;
    const escalated = await this.escalation.escalate(
      id,
      actor,
      body.reason,
      complainant ? (tx) => this.packets.provideIn(tx, id, actor, complainant) : undefined,
    );
    // What happens next (the office's name, what the packet still needs), as GET shows it.
    return this.packets.withEscalationSummary(escalated, actor);
  }

  @Post(':id/accept')
  @Roles('regulator', 'admin')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Accept the case (受理) → mediating; mediationEndBy = now + the ticket's mediationWorkdays working days",
  })
  @ApiOkResponse({ type: TicketResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_TRANSITION')
  acceptCase(@IdParam('id') id: string, @CurrentActor() actor: Actor) {
    return this.regulator.acceptCase(id, actor);
  }

  @Post(':id/decline')
  @Roles('regulator', 'admin')
  @ApiOperation({ summary: 'Decline (不予受理) with a reason from the fixed list → declined' })
  @TicketTransition()
  decline(@IdParam('id') id: string, @Body() body: DeclineRequest, @CurrentActor() actor: Actor) {
    return this.regulator.decline(id, actor, body.reason, body.detail);
  }

  @Post(':id/transfer')
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary:
      'Transfer an escalated ticket to another office (which gets a fresh acceptance period)',
    description: 'Also how admins assign tickets from the unassigned queue.',
  })
  @TicketTransition()
  transfer(@IdParam('id') id: string, @Body() body: TransferRequest, @CurrentActor() actor: Actor) {
    return this.regulator.transfer(id, actor, body.officeId);
  }

  @Post(':id/extend')
  @Roles('regulator', 'admin')
  @ApiOperation({
    summary:
      'Extend the running deadline once (acceptBy while escalated, mediationEndBy while mediating)',
    description:
      "By 1 to the ticket rule set's maxExtensionWorkdays working days (400 VALIDATION_FAILED otherwise), counted on from the current deadline; once per deadline (409 EXTENSION_USED; a transfer starts a fresh acceptance period, extendable once by the new office); 409 INVALID_TRANSITION when that deadline does not run in the ticket's status. The reason is shown to the consumer in `extensions`; the trail gets a `deadline_extended` event.",
  })
  @TicketTransition('EXTENSION_USED')
  extend(@IdParam('id') id: string, @Body() body: ExtendRequest, @CurrentActor() actor: Actor) {
    return this.regulator.extend(id, actor, body.deadline, body.workdays, body.reason);
  }

  @Post(':id/mediation')
  @Roles('regulator', 'admin')
  @ApiOperation({ summary: 'Record the mediation outcome → mediated | mediation_failed' })
  @TicketTransition()
  mediation(
    @IdParam('id') id: string,
    @Body() body: MediationRequest,
    @CurrentActor() actor: Actor,
  ) {
    return this.regulator.recordMediation(id, actor, body.outcome, body.note, body.settlement);
  }

  @Get(':id/events')
  @TicketRead()
  @ApiOperation({ summary: 'The tamper-evident trail' })
  @ApiItemsResponse(EventResponse)
  async events(
    @IdParam('id') id: string,
    @CurrentActor() actor: Actor,
  ): Promise<{ items: TrailEvent[] }> {
    return { items: await this.reading.events(id, actor) };
  }

  @Get(':id/events/verify')
  @TicketRead()
  @ApiOperation({ summary: 'Recompute the hash chain (and compare its head with the ticket)' })
  @ApiOkResponse({ type: VerifyResponse })
  verify(@IdParam('id') id: string, @CurrentActor() actor: Actor) {
    return this.reading.verify(id, actor);
  }
}
