/*
 * WeChat Pay API v3 payment notification.
 *
 * 1. Signature: RSASSA-PKCS1-v1_5 / SHA-256 (base64) by the platform key over
 *    `${Wechatpay-Timestamp}\n${Wechatpay-Nonce}\n${raw body}\n`.
 * 2. Freshness: |now - Wechatpay-Timestamp| <= maxSkewSeconds (default 300).
 * 3. The body's `resource` is AEAD_AES_256_GCM with the merchant's APIv3 key
 *    (iv = resource.nonce, aad = resource.associated_data, tag = last 16 bytes of ciphertext).
 */
import { createDecipheriv } from 'node:crypto';
import type { NormalizedReceipt, VerifyOutcome } from './normalized-receipt';
import { interpretWechatpayRefund } from '../refunds/refund-notifications';
import {
  assertStorable,
  decodeBase64Strict,
  isPlainObject,
  loadRsaPublicKey,
  isAmountMinor,
  nonEmptyString,
  requiredId,
  notConfigured,
  parseIsoWithOffset,
  signatureInvalid,
  validationFailed,
  verifyRsaSha256,
} from './verifier-internals';

export interface WechatpayNotificationInput {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
}

export interface WechatpayVerifierConfig {
  platformPublicKeyPem: string;
  /** The merchant's APIv3 key: exactly 32 bytes as UTF-8. */
  apiV3Key: string;
  now: Date;
  /** Accepted clock difference either way; default 300 s. */
  maxSkewSeconds?: number;
  /** When set, the Wechatpay-Serial header must equal it (platform certificate / public key id). */
  platformSerial?: string;
}

const DEFAULT_MAX_SKEW_SECONDS = 300;
const GCM_TAG_BYTES = 16;

function header(headers: WechatpayNotificationInput['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() !== wanted) continue;
    const value = Array.isArray(v) ? v[0] : v;
    return typeof value === 'string' ? value.trim() : undefined;
  }
  return undefined;
}

export function decryptWechatpayResource(
  resource: Record<string, unknown>,
  apiV3Key: Buffer,
): string {
  if (resource.algorithm !== 'AEAD_AES_256_GCM') {
    throw signatureInvalid(`unsupported resource algorithm ${String(resource.algorithm)}`);
  }
  const { ciphertext, nonce } = resource;
  const aad = resource.associated_data ?? '';
  if (!nonEmptyString(ciphertext) || !nonEmptyString(nonce) || typeof aad !== 'string') {
    throw signatureInvalid('resource is missing ciphertext, nonce or associated_data');
  }
  const data = decodeBase64Strict(ciphertext);
  if (!data || data.length <= GCM_TAG_BYTES)
    throw signatureInvalid('resource ciphertext is malformed');
  try {
    const decipher = createDecipheriv('aes-256-gcm', apiV3Key, Buffer.from(nonce, 'utf8'), {
      authTagLength: GCM_TAG_BYTES,
    });
    decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    return Buffer.concat([
      decipher.update(data.subarray(0, data.length - GCM_TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw signatureInvalid('resource could not be decrypted (wrong APIv3 key or tampered data)');
  }
}

export function verifyWechatpayNotification(
  input: WechatpayNotificationInput,
  cfg: WechatpayVerifierConfig,
): VerifyOutcome {
  const key = loadRsaPublicKey(cfg.platformPublicKeyPem, 'WeChat Pay platform public key');
  const apiV3Key = Buffer.from(cfg.apiV3Key ?? '', 'utf8');
  if (apiV3Key.length !== 32) throw notConfigured('WeChat Pay APIv3 key must be 32 bytes');

  const headers = input?.headers ?? {};
  const timestamp = header(headers, 'Wechatpay-Timestamp');
  const nonce = header(headers, 'Wechatpay-Nonce');
  const signature = header(headers, 'Wechatpay-Signature');
  const serial = header(headers, 'Wechatpay-Serial');
  if (!timestamp || !nonce || !signature) {
    throw signatureInvalid(
      'missing Wechatpay-Timestamp, Wechatpay-Nonce or Wechatpay-Signature header',
    );
  }
  if (cfg.platformSerial !== undefined && serial !== cfg.platformSerial) {
    throw signatureInvalid(`unknown Wechatpay-Serial ${serial ?? '(none)'}`);
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw signatureInvalid('Wechatpay-Timestamp is malformed');
  const maxSkew = cfg.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const skew = Math.abs(cfg.now.getTime() / 1000 - Number(timestamp));
  if (!(skew <= maxSkew)) {
    throw signatureInvalid(`Wechatpay-Timestamp is ${Math.round(skew)} s away from now`);
  }

  const rawBody = input?.rawBody;
  if (typeof rawBody !== 'string') throw signatureInvalid('notification body must be a string');
  if (!verifyRsaSha256(`${timestamp}\n${nonce}\n${rawBody}\n`, signature, key)) {
    throw signatureInvalid('WeChat Pay signature does not verify');
  }

  // From here on the body is authentic: problems are malformed payloads.
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw validationFailed(
      [{ field: 'body', message: 'is not JSON' }],
      'Invalid WeChat Pay notification',
    );
  }
  if (!isPlainObject(body) || !isPlainObject(body.resource)) {
    throw validationFailed(
      [{ field: 'resource', message: 'is required' }],
      'Invalid WeChat Pay notification',
    );
  }
  const eventType = typeof body.event_type === 'string' ? body.event_type : undefined;

  let transaction: unknown;
  try {
    transaction = JSON.parse(decryptWechatpayResource(body.resource, apiV3Key));
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw validationFailed([{ field: 'resource', message: 'decrypted resource is not JSON' }]);
    }
    throw e;
  }
  return interpretTransaction(transaction, eventType);
}

function interpretTransaction(tx: unknown, eventType: string | undefined): VerifyOutcome {
  const prefix = 'Invalid WeChat Pay transaction';
  if (!isPlainObject(tx))
    throw validationFailed([{ field: 'resource', message: 'is not an object' }], prefix);
  // Refund notifications (REFUND.SUCCESS / ABNORMAL / CLOSED) on the same route.
  if (eventType?.startsWith('REFUND.')) {
    if (eventType !== 'REFUND.SUCCESS' || tx.refund_status !== 'SUCCESS') {
      return { kind: 'ignored', reason: `${eventType} records no refund` };
    }
    return { kind: 'refund', refund: interpretWechatpayRefund(tx) };
  }
  if (tx.trade_state !== 'SUCCESS') {
    const state = typeof tx.trade_state === 'string' ? tx.trade_state : 'missing';
    return {
      kind: 'ignored',
      reason: `trade_state ${state} is not a successful payment (event ${eventType ?? 'unknown'})`,
    };
  }

  const errors: { field: string; message: string }[] = [];
  const id = (field: string, value: unknown): string => requiredId(errors, field, value);
  const tradeNo = id('transaction_id', tx.transaction_id);
  const mchid = id('mchid', tx.mchid);
  const openid = id('payer.openid', isPlainObject(tx.payer) ? tx.payer.openid : undefined);

  const amount = isPlainObject(tx.amount) ? tx.amount : {};
  const total = amount.total;
  if (!isAmountMinor(total, 0)) {
    errors.push({ field: 'amount.total', message: 'must be an integer from 0 to 10^12 (fen)' });
  }
  const currency = amount.currency;
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    errors.push({ field: 'amount.currency', message: 'must be an ISO 4217 code' });
  }

  const paidAt =
    typeof tx.success_time === 'string' ? parseIsoWithOffset(tx.success_time, true) : null;
  if (!paidAt) {
    errors.push({ field: 'success_time', message: 'must be an RFC 3339 date-time with offset' });
  }

  if (errors.length > 0 || !paidAt) throw validationFailed(errors, prefix);

  const subject = [tx.attach, tx.description, tx.out_trade_no].find(nonEmptyString) ?? '';
  const receipt: NormalizedReceipt = {
    provider: 'wechatpay',
    tradeNo,
    payerId: `wechatpay:${openid}`,
    accountId: mchid,
    amountMinor: total as number,
    currency: currency as string,
    paidAt,
    subject,
  };
  return { kind: 'receipt', receipt: assertStorable(receipt, prefix) };
}
