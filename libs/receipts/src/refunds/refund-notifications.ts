/*
 * Refunds as the providers report them, read from notifications whose signature was already
 * verified (alipay.verifier.ts, wechatpay.verifier.ts) or from a generic HMAC-signed body.
 */
import type { FieldError } from '@app/shared/errors/domain-error';
import type { NormalizedRefund } from './normalized-refund';
import {
  dateFromParts,
  genericObject,
  isAmountMinor,
  isPlainObject,
  nonEmptyString,
  parseIsoWithOffset,
  requiredId,
  requiredYuan,
  SHANGHAI_OFFSET_MINUTES,
  unstorableString,
  validationFailed,
} from '../verifiers/verifier-internals';

const PROVIDER = /^[a-z][a-z0-9_-]{1,31}$/;
const CURRENCY = /^[A-Z]{3}$/;
/** 'YYYY-MM-DD HH:mm:ss' with optional milliseconds (Alipay's gmt_refund has them). */
const LOCAL_DATE_TIME_MS = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

function idField(errors: FieldError[], field: string, value: unknown): string {
  const id = requiredId(errors, field, value);
  if (!id) return '';
  if (unstorableString(id)) {
    errors.push({ field, message: 'must not contain U+0000 or a lone surrogate' });
    return '';
  }
  return id;
}

/** Does this verified Alipay notification report a refund (refund_fee and gmt_refund)? */
export function isAlipayRefund(params: Map<string, string>): boolean {
  return nonEmptyString(params.get('refund_fee')) && nonEmptyString(params.get('gmt_refund'));
}

/**
 * Alipay reports refunds on the trade's own notification: `refund_fee` is the total refunded so
 * far (yuan), `gmt_refund` the refund's time (Asia/Shanghai, milliseconds optional),
 * `out_biz_no` the refund request's number. Whatever `trade_status` says (TRADE_SUCCESS for a
 * partial refund, TRADE_CLOSED for a full one).
 */
export function interpretAlipayRefund(params: Map<string, string>): NormalizedRefund {
  const errors: FieldError[] = [];
  const tradeNo = idField(errors, 'trade_no', params.get('trade_no'));
  const refundNo = idField(errors, 'out_biz_no', params.get('out_biz_no'));
  const refundedTotalMinor = requiredYuan(errors, 'refund_fee', params.get('refund_fee'));
  const m = LOCAL_DATE_TIME_MS.exec(params.get('gmt_refund') ?? '');
  const refundedAt = m
    ? dateFromParts(
        +m[1],
        +m[2],
        +m[3],
        +m[4],
        +m[5],
        +m[6],
        m[7] ? +m[7].padEnd(3, '0') : 0,
        SHANGHAI_OFFSET_MINUTES,
      )
    : null;
  if (!refundedAt) {
    errors.push({ field: 'gmt_refund', message: 'must be "YYYY-MM-DD HH:mm:ss[.SSS]"' });
  }
  if (errors.length || !refundedAt) throw validationFailed(errors, 'Invalid Alipay refund');
  return { provider: 'alipay', tradeNo, refundNo, refundedTotalMinor, currency: 'CNY', refundedAt };
}

/**
 * WeChat Pay v3 REFUND.SUCCESS: the decrypted resource has transaction_id, out_refund_no,
 * refund_id, refund_status, success_time and amount { total, refund, payer_total, payer_refund }
 * in fen. refundNo = refund_id, amount = amount.refund.
 */
export function interpretWechatpayRefund(resource: Record<string, unknown>): NormalizedRefund {
  const errors: FieldError[] = [];
  const tradeNo = idField(errors, 'transaction_id', resource.transaction_id);
  const refundNo = idField(errors, 'refund_id', resource.refund_id);
  const amount = isPlainObject(resource.amount) ? resource.amount : {};
  const refund = amount.refund;
  if (!isAmountMinor(refund, 1)) {
    errors.push({ field: 'amount.refund', message: 'must be a positive integer (fen)' });
  }
  const currency = amount.currency ?? 'CNY';
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
    errors.push({ field: 'amount.currency', message: 'must be an ISO 4217 code' });
  }
  const refundedAt =
    typeof resource.success_time === 'string'
      ? parseIsoWithOffset(resource.success_time, true)
      : null;
  if (!refundedAt) {
    errors.push({ field: 'success_time', message: 'must be an RFC 3339 date-time with offset' });
  }
  if (errors.length || !refundedAt) throw validationFailed(errors, 'Invalid WeChat Pay refund');
  return {
    provider: 'wechatpay',
    tradeNo,
    refundNo,
    amountMinor: refund as number,
    currency: currency as string,
    refundedAt,
  };
}

const GENERIC_FIELDS = new Set([
  'provider',
  'tradeNo',
  'refundNo',
  'amountMinor',
  'currency',
  'refundedAt',
]);

/** POST /v1/refunds: `{ provider, tradeNo, refundNo, amountMinor, currency, refundedAt }`. */
export function parseGenericRefund(body: unknown): NormalizedRefund {
  const { obj, errors } = genericObject(body, GENERIC_FIELDS, 'refund');
  const { provider, amountMinor, currency, refundedAt } = obj;
  if (typeof provider !== 'string' || !PROVIDER.test(provider)) {
    errors.push({ field: 'provider', message: 'must match ^[a-z][a-z0-9_-]{1,31}$' });
  }
  const tradeNo = idField(errors, 'tradeNo', obj.tradeNo);
  const refundNo = idField(errors, 'refundNo', obj.refundNo);
  if (!isAmountMinor(amountMinor, 1)) {
    errors.push({ field: 'amountMinor', message: 'must be a positive integer of at most 10^12' });
  }
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
    errors.push({ field: 'currency', message: 'must be an ISO 4217 code such as CNY' });
  }
  const at = typeof refundedAt === 'string' ? parseIsoWithOffset(refundedAt) : null;
  if (!at)
    errors.push({ field: 'refundedAt', message: 'must be an ISO 8601 date-time with offset' });
  if (errors.length || !at) throw validationFailed(errors, 'Invalid refund');
  return {
    provider: provider as string,
    tradeNo,
    refundNo,
    amountMinor: amountMinor as number,
    currency: currency as string,
    refundedAt: at,
  };
}
