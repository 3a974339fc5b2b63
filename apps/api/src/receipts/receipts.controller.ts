import { Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import {
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ReceiptIntakeService, ReceiptsService, RefundsService } from '@app/receipts';
import type { IntakeOutcome, ReceiptView, RefundView } from '@app/receipts';
import { SettlementService, TicketReads } from '@app/complaints';
import { DomainError, receiptsIngested } from '@app/shared';
import type { Actor, Page } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { CurrentActor, Public, Roles } from '../http/auth';
import { IdParam } from '../http/id-param';
import { ApiPagedList, ListQuery } from '../http/list-query.dto';
import {
  BatchResponse,
  GenericReceiptRequest,
  ReceiptResponse,
  ReceiptWithRefundsResponse,
  GenericRefundRequest,
  RefundResponse,
} from './receipts.dto';
import { WechatpayFailureFilter } from './wechatpay-failure.filter';
import {
  headerMap,
  NdjsonBatchRoute,
  requireContentType,
  signedBatch,
  signedJson,
  SignedJsonRoute,
} from './signed-routes';

@ApiTags('receipts')
@ApiExtraModels(ReceiptResponse)
@Controller('v1/receipts')
export class ReceiptsController {
  constructor(
    private readonly intake: ReceiptIntakeService,
    private readonly receipts: ReceiptsService,
    private readonly refunds: RefundsService,
    private readonly settlement: SettlementService,
    private readonly tickets: TicketReads,
  ) {}

  /** Receipts as the API shows them: each with the id of the ticket opened from it, or null. */
  private async withTickets(views: ReceiptView[]): Promise<BillView[]> {
    const ids = await this.tickets.idsByReceipt(views.map((v) => v.id));
    return views.map((v) => ({ ...v, complaintId: ids.get(v.id) ?? null }));
  }

  /**
   * A provider notification's outcome → metrics, and for a refund the ticket of its receipt
   * (after the refund committed; also on a re-delivery, so a crash in between is repaired by the
   * provider's retry, and by the worker's sweep for settling tickets).
   */
  private async after(provider: string, outcome: IntakeOutcome): Promise<void> {
    if (outcome.kind === 'ignored') return count(provider, 'ignored');
    if (outcome.kind === 'stored') {
      return count(provider, outcome.result.created ? 'created' : 'duplicate');
    }
    if (outcome.result.kind === 'nothing_new') return count(provider, 'refund_nothing_new');
    count(provider, outcome.result.created ? 'refund_created' : 'refund_duplicate');
    await this.settlement.onRefundRecorded(outcome.result.refund);
  }

  @Post('alipay')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: "Alipay's asynchronous payment (and refund) notification",
    description:
      'Form-encoded, RSA2-signed by Alipay; verified with ALIPAY_PUBLIC_KEY. TRADE_SUCCESS and TRADE_FINISHED make a receipt; other statuses are acknowledged and stored nowhere. A notification carrying `refund_fee` (total refunded so far) and `gmt_refund` records a refund instead, whatever trade_status says: refundNo = out_biz_no, amount = that total minus what is already recorded for the trade (nothing new: acknowledged, nothing recorded). Replies the plain text `success` (new or repeated), as Alipay requires.',
  })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'the text `success`' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'RECEIPT_SIGNATURE_INVALID',
    'RECEIPT_CONFLICT',
    'REFUND_EXCEEDS_PAYMENT',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'PROVIDER_NOT_CONFIGURED',
  )
  async alipay(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const ct = requireContentType(
      req,
      /^application\/x-www-form-urlencoded\b/i,
      'application/x-www-form-urlencoded',
    );
    const outcome = await this.intake
      .fromAlipay(req.rawBody ?? '', ct)
      .catch(countConflict('alipay'));
    await this.after('alipay', outcome);
    void reply.header('content-type', 'text/plain; charset=utf-8');
    return 'success';
  }

  @Post('wechatpay')
  @Public()
  @HttpCode(204)
  @UseFilters(WechatpayFailureFilter)
  @ApiOperation({
    summary: 'WeChat Pay API v3 payment notification',
    description:
      'Signature over `timestamp\\nnonce\\nbody\\n` verified with WECHATPAY_PLATFORM_PUBLIC_KEY; timestamps more than 5 minutes from now are refused; the AEAD_AES_256_GCM resource is decrypted with WECHATPAY_APIV3_KEY. trade_state SUCCESS makes a receipt. event_type REFUND.SUCCESS records a refund (refundNo = refund_id, amount = amount.refund); REFUND.ABNORMAL and REFUND.CLOSED are acknowledged and record nothing. Replies 204; failures reply 4xx/5xx with `{ code: "FAIL", message, reason }` as WeChat Pay expects (reason is our error code).',
  })
  @ApiHeader({ name: 'Wechatpay-Timestamp', required: true })
  @ApiHeader({ name: 'Wechatpay-Nonce', required: true })
  @ApiHeader({ name: 'Wechatpay-Signature', required: true })
  @ApiHeader({ name: 'Wechatpay-Serial', required: true })
  @ApiNoContentResponse({
    description: 'accepted (new, repeated, or a non-success state that makes no receipt)',
  })
  async wechatpay(@Req() req: FastifyRequest): Promise<void> {
    const ct = requireContentType(req, /^application\/json\b/i, 'application/json');
    const outcome = await this.intake
      .fromWechatpay(headerMap(req), req.rawBody ?? '', ct)
      .catch(countConflict('wechatpay'));
    await this.after('wechatpay', outcome);
  }

  @SignedJsonRoute({
    summary: 'Generic signed receipt (POS systems, aggregators)',
    description:
      'Header `X-Hejie-Signature: sha256=<hex HMAC-SHA256 of the raw body bytes with the integrator key>`; `X-Hejie-Key-Id` names the key (RECEIPT_HMAC_KEYS; absent → `default` = RECEIPT_HMAC_SECRET). A missing or malformed signature header, or an unknown key id, is refused (401) before the body is read; the HMAC is checked over the bytes before they are decoded. A key may only sign for its own providers (401); `alipay` and `wechatpay` are reserved for their verified routes (422 PROVIDER_RESERVED). 201 for a new receipt, 200 when the same receipt was already stored, 409 RECEIPT_CONFLICT when different facts arrive under the same (provider, tradeNo).',
    body: GenericReceiptRequest,
    response: ReceiptResponse,
    noun: 'receipt',
  })
  async generic(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BillView> {
    const result = await this.intake.fromGeneric(signedJson(req)).catch(countConflict('generic'));
    count(result.receipt.provider, result.created ? 'created' : 'duplicate');
    void reply.status(result.created ? 201 : 200);
    // A receipt stored by this request has no ticket yet: no lookup.
    if (result.created) return { ...result.receipt, complaintId: null };
    return (await this.withTickets([result.receipt]))[0];
  }

  @NdjsonBatchRoute(
    'Bulk import of generic receipts as NDJSON',
    'One generic receipt object per line (`application/x-ndjson`), one X-Hejie-Signature over the whole body. Lines are staged by COPY and stored in one transaction (run again, up to 3 times, if PostgreSQL reports a deadlock with a concurrent batch); a bad line is reported by number and does not stop the good ones (a reserved provider: PROVIDER_RESERVED; a provider the key may not sign for: RECEIPT_SIGNATURE_INVALID). Signature and key id as for POST /v1/receipts, checked before the body is read. Body limit: BATCH_BODY_LIMIT_BYTES (default 64 MB); at most BATCH_MAX_CONCURRENT (default 2) uploads per API process at a time, more → 429 RATE_LIMITED with Retry-After.',
  )
  async batch(@Req() req: FastifyRequest): Promise<BatchResponse> {
    const result = await this.intake.fromBatch(signedBatch(req));
    receiptsIngested.inc({ provider: 'batch', outcome: 'created' }, result.created);
    receiptsIngested.inc({ provider: 'batch', outcome: 'duplicate' }, result.duplicates);
    return result;
  }

  @Get()
  @Roles('consumer')
  @ApiOperation({
    summary: "The consumer's own bills, newest payment first, each with its complaintId or null",
  })
  @ApiPagedList(ReceiptResponse)
  async list(@Query() q: ListQuery, @CurrentActor() actor: Actor): Promise<Page<BillView>> {
    const page = await this.receipts.listForPayer(actor.sub, q);
    return { ...page, items: await this.withTickets(page.items) };
  }

  @Get(':receiptId')
  @Roles('consumer', 'admin')
  @ApiOperation({
    summary: 'One receipt (its payer, or an admin), with its refunds; anyone else gets 404',
  })
  @ApiOkResponse({ type: ReceiptWithRefundsResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND')
  async get(
    @IdParam('receiptId') id: string,
    @CurrentActor() actor: Actor,
  ): Promise<
    BillView & { refunds: Pick<RefundView, 'refundNo' | 'amountMinor' | 'refundedAt'>[] }
  > {
    const [receipt] = await this.withTickets([await this.receipts.getForActor(id, actor)]);
    const refunds = await this.refunds.forTrade(receipt.provider, receipt.tradeNo);
    return {
      ...receipt,
      refunds: refunds.map((r) => ({
        refundNo: r.refundNo,
        amountMinor: r.amountMinor,
        refundedAt: r.refundedAt,
      })),
    };
  }
}

/** A receipt with the ticket opened from it (GET /v1/receipts, ReceiptResponse). */
type BillView = ReceiptView & { complaintId: string | null };

function count(provider: string, outcome: string): void {
  receiptsIngested.inc({ provider, outcome });
}

function countConflict(provider: string) {
  return (e: unknown): never => {
    if (e instanceof DomainError && e.code === 'RECEIPT_CONFLICT') count(provider, 'conflict');
    throw e;
  };
}

/** Generic refunds (POS systems, aggregators), signed like POST /v1/receipts. */
@ApiTags('receipts')
@Controller('v1/refunds')
export class RefundsController {
  constructor(
    private readonly intake: ReceiptIntakeService,
    private readonly settlement: SettlementService,
  ) {}

  @SignedJsonRoute({
    summary: 'Generic signed refund',
    description:
      'Signed as POST /v1/receipts (`X-Hejie-Signature: sha256=<hex HMAC-SHA256 of the raw body bytes>`, `X-Hejie-Key-Id` naming the key; checked before the body is read). A key may only sign for its own providers (401); `alipay` and `wechatpay` refunds come only through their verified routes (422 PROVIDER_RESERVED). Keyed by (provider, refundNo): 201 new, 200 the same refund again, 409 RECEIPT_CONFLICT for a different payload under the key. Matched to its receipt by (provider, tradeNo) whenever both are known (a refund may arrive first); 422 REFUND_EXCEEDS_PAYMENT when the refunds of a known receipt would exceed the amount paid. A refund on an open ticket is an event `refund_received` on its trail, and settles a settling money offer it covers.',
    body: GenericRefundRequest,
    response: RefundResponse,
    noun: 'refund',
    moreProblems: ['REFUND_EXCEEDS_PAYMENT'],
  })
  async create(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RefundView> {
    const result = await this.intake
      .fromGenericRefund(signedJson(req))
      .catch(countConflict('generic'));
    // Generic refunds always name a positive amount: "nothing new" is an Alipay-only outcome;
    // should it ever come back, the request changed nothing and says so as a problem.
    if (result.kind !== 'recorded') {
      throw new DomainError(
        'VALIDATION_FAILED',
        `the refund records nothing: ${result.reason}`,
        {},
        [{ field: 'amountMinor', message: 'must add to what is already refunded' }],
      );
    }
    count(result.refund.provider, result.created ? 'refund_created' : 'refund_duplicate');
    await this.settlement.onRefundRecorded(result.refund);
    void reply.status(result.created ? 201 : 200);
    return result.refund;
  }

  @NdjsonBatchRoute(
    'Bulk import of generic refunds as NDJSON',
    'One generic refund object per line (`application/x-ndjson`, the body of POST /v1/refunds), one X-Hejie-Signature over the whole body, read and checked exactly as POST /v1/receipts/batch (signature and key id checked before the body is read; the same body limit BATCH_BODY_LIMIT_BYTES and the same BATCH_MAX_CONCURRENT cap, shared with receipt batches: more → 429 RATE_LIMITED with Retry-After). Each line follows the rules of POST /v1/refunds in body order, in one transaction: keyed by (provider, refundNo) — the same refund again is a duplicate, other facts under the key are rejected as RECEIPT_CONFLICT; matched to its receipt by (provider, tradeNo) when known (a refund may arrive first); a line that would take the refunds of a payment past the amount paid is rejected as REFUND_EXCEEDS_PAYMENT (another currency: VALIDATION_FAILED) and counts for nothing; reserved providers: PROVIDER_RESERVED; a provider the key may not sign for: RECEIPT_SIGNATURE_INVALID. A bad line does not stop the good ones. After the commit, each refund on an open ticket is on its trail (`refund_received`) and settles a settling money offer it covers, as a single refund does.',
  )
  async batch(@Req() req: FastifyRequest): Promise<BatchResponse> {
    const { matched, ...result } = await this.intake.fromRefundBatch(signedBatch(req));
    receiptsIngested.inc({ provider: 'batch', outcome: 'refund_created' }, result.created);
    receiptsIngested.inc({ provider: 'batch', outcome: 'refund_duplicate' }, result.duplicates);
    // In body order, as if they had arrived one by one: each on its trail, then the settling.
    await this.settlement.onRefundsRecorded(matched);
    return result;
  }
}
