import { isUtf8 } from 'node:buffer';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import {
  ndjsonLines,
  parseGenericReceipt,
  parseNdjsonLine,
  verifyAlipayNotification,
  verifyHmacSignature,
  verifyWechatpayNotification,
} from './verifiers';
import { BatchLineResult, BatchResult, IngestResult, ReceiptsService } from './receipts.service';
import { RefundRecordResult, RefundsService } from './refunds/refunds.service';
import { parseGenericRefund } from './refunds/refund-notifications';

/** The body's lines, parsed and validated lazily, each with its raw text (the evidence). */
function* batchLines(body: string | Buffer): Generator<BatchLineResult> {
  for (const { line, text, raw } of ndjsonLines(body)) {
    const parsed: BatchLineResult = parseNdjsonLine(line, text);
    if (parsed.receipt) parsed.raw = raw;
    yield parsed;
  }
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
    private readonly receipts: ReceiptsService,
    private readonly refunds: RefundsService,
  ) {}

  async fromAlipay(rawBody: string, contentType: string): Promise<IntakeOutcome> {
    const key = this.required(this.config.alipayPublicKey, 'ALIPAY_PUBLIC_KEY');
    const outcome = verifyAlipayNotification(rawBody, key);
    if (outcome.kind === 'ignored') return outcome;
    if (outcome.kind === 'refund') {
      return {
        kind: 'refund',
        result: await this.refunds.record({ refund: outcome.refund, raw: rawBody, contentType }),
      };
    }
    return {
      kind: 'stored',
      result: await this.receipts.ingest({ receipt: outcome.receipt, raw: rawBody, contentType }),
    };
  }

  async fromWechatpay(
    headers: Record<string, string | undefined>,
    rawBody: string,
    contentType: string,
    now: Date,
  ): Promise<IntakeOutcome> {
    const platformPublicKeyPem = this.required(
      this.config.wechatpayPlatformPublicKey,
      'WECHATPAY_PLATFORM_PUBLIC_KEY',
    );
    const apiV3Key = this.required(this.config.wechatpayApiV3Key, 'WECHATPAY_APIV3_KEY');
    const outcome = verifyWechatpayNotification(
      { headers, rawBody },
      { platformPublicKeyPem, apiV3Key, now },
    );
    if (outcome.kind === 'ignored') return outcome;
    // The evidence keeps the signed headers with the body: the signature covers both.
    const raw = JSON.stringify({
      headers: Object.fromEntries(
        ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial'].map(
          (h) => [h, headers[h] ?? null],
        ),
      ),
      body: rawBody,
    });
    if (outcome.kind === 'refund') {
      return {
        kind: 'refund',
        result: await this.refunds.record({ refund: outcome.refund, raw, contentType }),
      };
    }
    return {
      kind: 'stored',
      result: await this.receipts.ingest({ receipt: outcome.receipt, raw, contentType }),
    };
  }

  async fromGeneric(
    rawBody: string,
    signature: string | undefined,
    contentType: string,
  ): Promise<IngestResult> {
    const secret = this.required(this.config.receiptHmacSecret, 'RECEIPT_HMAC_SECRET');
    verifyHmacSignature(rawBody, signature, secret);
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      throw new DomainError('VALIDATION_FAILED', 'body is not valid JSON');
    }
    return this.receipts.ingest({
      receipt: parseGenericReceipt(parsed),
      raw: rawBody,
      contentType,
    });
  }

  /** POST /v1/refunds: signed as POST /v1/receipts (same HMAC path), a generic refund body. */
  async fromGenericRefund(
    rawBody: string,
    signature: string | undefined,
    contentType: string,
  ): Promise<RefundRecordResult> {
    const secret = this.required(this.config.receiptHmacSecret, 'RECEIPT_HMAC_SECRET');
    verifyHmacSignature(rawBody, signature, secret);
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      throw new DomainError('VALIDATION_FAILED', 'body is not valid JSON');
    }
    return this.refunds.record({ refund: parseGenericRefund(parsed), raw: rawBody, contentType });
  }

  /**
   * NDJSON bulk import. The body is best kept as the Buffer received (the API's parser does):
   * its lines are then decoded one at a time while they are stored, never all at once.
   */
  async fromBatch(
    rawBody: string | Buffer,
    signature: string | undefined,
    contentType: string,
  ): Promise<BatchResult> {
    const secret = this.required(this.config.receiptHmacSecret, 'RECEIPT_HMAC_SECRET');
    // Bytes that are not UTF-8 are read as U+FFFD, as a text body would be; the signature and
    // the stored lines then cover that text, exactly as for a string body.
    const body =
      Buffer.isBuffer(rawBody) && !isUtf8(rawBody)
        ? Buffer.from(rawBody.toString('utf8'))
        : rawBody;
    verifyHmacSignature(body, signature, secret);
    return this.receipts.ingestBatch(batchLines(body), contentType);
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
