import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Clock, HejieConfig, IntegratorKey } from '@app/shared';
import {
  assertProviderAllowed,
  integratorFor,
  ndjsonLines,
  parseGenericReceipt,
  parseNdjsonItem,
  verifyAlipayNotification,
  verifyHmacSignature,
  verifySignedJson,
  verifyWechatpayNotification,
} from './verifiers';
import type { Received, VerifyOutcome } from './verifiers';
import { BatchResult, IngestResult, ReceiptsService } from './receipts.service';
import { RefundBatchResult, RefundRecordResult, RefundsService } from './refunds/refunds.service';
import { parseGenericRefund } from './refunds/refund-notifications';
import type { SignedBatchLine } from './batch-tx';

/**
 * The one NDJSON batch reader (receipts and refunds): the body's lines, parsed by `parse` and
 * validated lazily, each item's provider checked against the key (reserved →
 * PROVIDER_RESERVED, not the key's → RECEIPT_SIGNATURE_INVALID, for that line only), each with
 * its raw text. The caller has verified the body's signature.
 */
export function* signedBatchLines<T extends { provider: string }>(
  body: string | Buffer,
  key: IntegratorKey,
  parse: (value: unknown) => T,
): Generator<SignedBatchLine<T>> {
  for (const { line, text, raw, utf8 } of ndjsonLines(body)) {
    const parsed: SignedBatchLine<T> = parseNdjsonItem(line, text, utf8, parse);
    if (parsed.item) {
      try {
        assertProviderAllowed(key, parsed.item.provider);
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        yield { line, code: e.code, detail: e.message };
        continue;
      }
      parsed.raw = raw;
    }
    yield parsed;
  }
}

/** A body signed with X-Hejie-Signature as received: its bytes, the signature and key id, its type. */
export interface SignedBody {
  rawBody: string | Buffer;
  signature: string | undefined;
  contentType: string;
  keyId?: string;
}

export type IntakeOutcome =
  | { kind: 'stored'; result: IngestResult }
  | { kind: 'refund'; result: RefundRecordResult }
  | { kind: 'ignored'; reason: string };

/**
 * Provider routes → verified, normalised receipts. Each method checks that its provider is
 * configured, verifies the signature over the raw body, then stores.
 */
@Injectable()
export class ReceiptIntakeService {
  constructor(
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly receipts: ReceiptsService,
    private readonly refunds: RefundsService,
  ) {}

  async fromAlipay(rawBody: string, contentType: string): Promise<IntakeOutcome> {
    const key = this.required(this.config.alipayPublicKey, 'ALIPAY_PUBLIC_KEY');
    return this.store(verifyAlipayNotification(rawBody, key), { raw: rawBody, contentType });
  }

  async fromWechatpay(
    headers: Record<string, string | undefined>,
    rawBody: string,
    contentType: string,
  ): Promise<IntakeOutcome> {
    const platformPublicKeyPem = this.required(
      this.config.wechatpayPlatformPublicKey,
      'WECHATPAY_PLATFORM_PUBLIC_KEY',
    );
    const apiV3Key = this.required(this.config.wechatpayApiV3Key, 'WECHATPAY_APIV3_KEY');
    const outcome = verifyWechatpayNotification(
      { headers, rawBody },
      // Freshness is counted on the domain clock, the one deadlines are counted on.
      { platformPublicKeyPem, apiV3Key, now: this.clock.now() },
    );
    // The evidence keeps the signed headers with the body: the signature covers both.
    const raw = JSON.stringify({
      headers: Object.fromEntries(
        ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial'].map(
          (h) => [h, headers[h] ?? null],
        ),
      ),
      body: rawBody,
    });
    return this.store(outcome, { raw, contentType });
  }

  /** A provider's verified notification stored as what it reports: a receipt or a refund. */
  private async store(outcome: VerifyOutcome, received: Received): Promise<IntakeOutcome> {
    switch (outcome.kind) {
      case 'ignored':
        return outcome;
      case 'refund':
        return {
          kind: 'refund',
          result: await this.refunds.record({ refund: outcome.refund, ...received }),
        };
      case 'receipt':
        return {
          kind: 'stored',
          result: await this.receipts.ingest({ receipt: outcome.receipt, ...received }),
        };
    }
  }

  /**
   * POST /v1/receipts. The HMAC is checked over the body's bytes before they are decoded; then
   * strict UTF-8, strict JSON (parseJsonStrict), the receipt's shape, and its provider against
   * the key (reserved → 422 PROVIDER_RESERVED; not the key's → 401).
   */
  async fromGeneric(body: SignedBody): Promise<IngestResult> {
    const { item: receipt, raw } = this.signedGeneric(body, parseGenericReceipt);
    return this.receipts.ingest({ receipt, raw, contentType: body.contentType });
  }

  /**
   * POST /v1/refunds: signed as POST /v1/receipts (verifySignedJson: key id, HMAC over the bytes,
   * strict UTF-8 and JSON), a generic refund body, its provider checked against the key
   * (alipay / wechatpay reserved → 422 PROVIDER_RESERVED; not the key's → 401).
   */
  async fromGenericRefund(body: SignedBody): Promise<RefundRecordResult> {
    const { item: refund, raw } = this.signedGeneric(body, parseGenericRefund);
    return this.refunds.record({ refund, raw, contentType: body.contentType });
  }

  /**
   * A generic signed body (receipt or refund): verifySignedJson (key id, HMAC over the bytes,
   * strict UTF-8 and JSON), then `parse`, then its provider checked against the key.
   */
  private signedGeneric<T extends { provider: string }>(
    body: SignedBody,
    parse: (value: unknown) => T,
  ): { item: T; raw: string } {
    const { key, text, value } = verifySignedJson(
      this.config.receiptHmacKeys,
      body.rawBody,
      body.signature,
      body.keyId,
    );
    const item = parse(value);
    assertProviderAllowed(key, item.provider);
    return { item, raw: text };
  }

  /**
   * NDJSON bulk import. The body is best kept as the Buffer received (the API's parser does):
   * the HMAC covers those bytes exactly (checked before anything is decoded), and the lines are
   * then decoded one at a time while they are stored, never all at once. A line that is not
   * UTF-8, not clean JSON, not a receipt, of a reserved provider (PROVIDER_RESERVED) or of a
   * provider the key may not sign for (RECEIPT_SIGNATURE_INVALID) is rejected by its number.
   */
  async fromBatch(body: SignedBody): Promise<BatchResult> {
    return this.receipts.ingestBatch(this.batchLines(body, parseGenericReceipt), body.contentType);
  }

  /**
   * POST /v1/refunds/batch: generic refunds as NDJSON, read and signed exactly as
   * POST /v1/receipts/batch (the same reader and checks), each line recorded as
   * POST /v1/refunds would (RefundsService.recordBatch).
   */
  async fromRefundBatch(body: SignedBody): Promise<RefundBatchResult> {
    return this.refunds.recordBatch(this.batchLines(body, parseGenericRefund), body.contentType);
  }

  /**
   * A batch body's lines, read by `parse` (signedBatchLines) each time they are asked for; the
   * key and its HMAC over the bytes as received are checked now, before anything is decoded.
   */
  private batchLines<T extends { provider: string }>(
    body: SignedBody,
    parse: (value: unknown) => T,
  ): () => Iterable<SignedBatchLine<T>> {
    const key = integratorFor(this.config.receiptHmacKeys, body.keyId, body.signature);
    verifyHmacSignature(body.rawBody, body.signature, key.secret);
    return () => signedBatchLines(body.rawBody, key, parse);
  }

  private required(value: string | null, name: string): string {
    if (!value) {
      throw new DomainError(
        'PROVIDER_NOT_CONFIGURED',
        `this receipt route is off: ${name} is not set`,
      );
    }
    return value;
  }
}
