/*
 * Alipay asynchronous payment notification (x-www-form-urlencoded, RSA2).
 *
 * Signed content: every parameter except `sign` and `sign_type`, empty values dropped, keys
 * sorted ascending (code-unit order), joined as `k=v` with `&`, using the DECODED values.
 * The signature is base64 RSASSA-PKCS1-v1_5 / SHA-256 made with Alipay's private key.
 */
import type { NormalizedReceipt, VerifyOutcome } from './normalized-receipt';
import { interpretAlipayRefund, isAlipayRefund } from '../refunds/refund-notifications';
import {
  assertStorable,
  fieldError,
  loadRsaPublicKey,
  nonEmptyString,
  requiredId,
  requiredYuan,
  parseLocalDateTime,
  SHANGHAI_OFFSET_MINUTES,
  signatureInvalid,
  validationFailed,
  verifyRsaSha256,
} from './verifier-internals';

export const ALIPAY_SUCCESS_STATUSES: readonly string[] = ['TRADE_SUCCESS', 'TRADE_FINISHED'];

/**
 * The string Alipay signs. With `keepEmpty`, empty values stay in (`k=`): Alipay's own Java
 * SDK builds the notification check content that way, so it is tried as a fallback.
 */
export function alipaySignContent(params: Map<string, string>, keepEmpty = false): string {
  const keys: string[] = [];
  for (const [k, v] of params) {
    if (k === 'sign' || k === 'sign_type') continue;
    if (v === '' && !keepEmpty) continue;
    keys.push(k);
  }
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => `${k}=${params.get(k)}`).join('&');
}

function parseForm(rawFormBody: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(rawFormBody)) {
    if (params.has(k)) {
      // Two values for one key: which one was signed, which one would we read? Refuse.
      throw signatureInvalid(`duplicate parameter "${k}"`);
    }
    params.set(k, v);
  }
  return params;
}

export function verifyAlipayNotification(
  rawFormBody: string,
  alipayPublicKeyPem: string,
): VerifyOutcome {
  const key = loadRsaPublicKey(alipayPublicKeyPem, 'Alipay public key');
  if (typeof rawFormBody !== 'string') {
    throw signatureInvalid('notification body must be a form-encoded string');
  }
  const params = parseForm(rawFormBody);

  // A '+' that arrived unencoded was decoded to a space; base64 never contains spaces.
  const sign = params.get('sign')?.replace(/ /g, '+');
  if (!sign) throw signatureInvalid('missing sign');
  const signType = params.get('sign_type');
  if (signType !== 'RSA2') {
    throw signatureInvalid(`sign_type must be RSA2, got ${signType ? `"${signType}"` : 'none'}`);
  }

  let verified = verifyRsaSha256(alipaySignContent(params), sign, key);
  if (!verified && [...params.values()].some((v) => v === '')) {
    verified = verifyRsaSha256(alipaySignContent(params, true), sign, key);
  }
  if (!verified) throw signatureInvalid('Alipay signature does not verify');

  return interpretAlipayParams(params);
}

function interpretAlipayParams(params: Map<string, string>): VerifyOutcome {
  // A refund rides on the trade's notification, whatever trade_status says (API.md Refunds).
  if (isAlipayRefund(params)) return { kind: 'refund', refund: interpretAlipayRefund(params) };
  const tradeStatus = params.get('trade_status');
  if (!nonEmptyString(tradeStatus)) throw fieldError('trade_status', 'is required');
  if (!ALIPAY_SUCCESS_STATUSES.includes(tradeStatus)) {
    return { kind: 'ignored', reason: `trade_status ${tradeStatus} is not a completed payment` };
  }

  const errors: { field: string; message: string }[] = [];
  const id = (field: string): string => requiredId(errors, field, params.get(field));

  const tradeNo = id('trade_no');
  const sellerId = id('seller_id');
  // Newer apps receive buyer_open_id instead of buyer_id; prefer buyer_id when both exist.
  let buyer = '';
  if (nonEmptyString(params.get('buyer_id'))) buyer = id('buyer_id');
  else if (nonEmptyString(params.get('buyer_open_id'))) buyer = id('buyer_open_id');
  else errors.push({ field: 'buyer_id', message: 'buyer_id or buyer_open_id is required' });

  const amountMinor = requiredYuan(errors, 'total_amount', params.get('total_amount'));

  const gmtPayment = params.get('gmt_payment');
  let paidAt: Date | null = null;
  if (!nonEmptyString(gmtPayment)) errors.push({ field: 'gmt_payment', message: 'is required' });
  else {
    paidAt = parseLocalDateTime(gmtPayment, SHANGHAI_OFFSET_MINUTES);
    if (!paidAt) {
      errors.push({ field: 'gmt_payment', message: 'must be a valid "YYYY-MM-DD HH:mm:ss"' });
    }
  }

  if (errors.length > 0 || !paidAt) throw validationFailed(errors, 'Invalid Alipay notification');

  const receipt: NormalizedReceipt = {
    provider: 'alipay',
    tradeNo,
    payerId: `alipay:${buyer}`,
    accountId: sellerId,
    amountMinor,
    currency: 'CNY',
    paidAt,
    // subject is optional in Alipay's notification; fall back to the merchant's order number.
    subject: params.get('subject') || params.get('out_trade_no') || '',
  };
  return { kind: 'receipt', receipt: assertStorable(receipt, 'Invalid Alipay notification') };
}
