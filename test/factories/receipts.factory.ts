/*
 * Provider notifications for the receipt routes, signed with the test app's keys: Alipay forms,
 * WeChat Pay v3 envelopes, generic HMAC receipts and NDJSON batches.
 */
import { randomBytes } from 'node:crypto';
import {
  buildWechatpayNotification,
  signAlipayNotification,
  signHmac,
} from '../../libs/receipts/src/verifiers/test-signers';
import type { TestApp } from '../helpers/test-app';
import { APIV3_KEY, HMAC_SECRET } from '../helpers/test-app';

const digits = (n: number): string => {
  let out = '';
  const bytes = randomBytes(n);
  for (let i = 0; i < n; i++) out += String(bytes[i] % 10);
  return out;
};

/** Unique ids in each provider's style. */
export const alipayTradeNo = () => `20261123220014${digits(14)}`;
export const wechatpayTransactionId = () => `42000019${digits(20)}`;
export const alipayBuyerId = () => `2088${digits(12)}`;
export const openid = () => `oUpF8u${randomBytes(11).toString('base64url')}`;
export const uniqueTradeNo = (prefix = 'T') => `${prefix}${randomBytes(8).toString('hex')}`;

/** Unsigned parameters of an Alipay TRADE_SUCCESS notification; override any of them. */
export function alipayParams(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    notify_time: '2026-11-23 18:15:03',
    notify_type: 'trade_status_sync',
    notify_id: randomBytes(16).toString('hex'),
    app_id: '2021000000000000',
    charset: 'utf-8',
    version: '1.0',
    trade_no: alipayTradeNo(),
    out_trade_no: `ORDER-${randomBytes(4).toString('hex')}`,
    buyer_id: alipayBuyerId(),
    seller_id: `2088${digits(12)}`,
    total_amount: '0.10',
    receipt_amount: '0.10',
    gmt_create: '2026-11-23 18:14:58',
    gmt_payment: '2026-11-23 18:15:00',
    trade_status: 'TRADE_SUCCESS',
    subject: '龙井茶 250g',
    ...overrides,
  };
}

/** POST /v1/receipts/alipay with an already encoded form body. */
export function postAlipay(
  t: TestApp,
  body: string,
  contentType = 'application/x-www-form-urlencoded',
) {
  return t.http.post('/v1/receipts/alipay').set('content-type', contentType).send(body);
}

/** Signs `params` with the configured test key and posts them. */
export function sendAlipay(t: TestApp, params: Record<string, string>) {
  return postAlipay(t, signAlipayNotification(params, t.keys.alipay.privateKeyPem));
}

/** A decrypted WeChat Pay transaction with trade_state SUCCESS; override any field. */
export function wechatpayTransaction(overrides: Record<string, unknown> = {}) {
  return {
    appid: 'wxd678efh567hg6787',
    mchid: `16${digits(8)}`,
    out_trade_no: `WX-${randomBytes(4).toString('hex')}`,
    transaction_id: wechatpayTransactionId(),
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: '',
    description: '西湖龙井 礼盒',
    success_time: '2026-11-23T18:15:00+08:00',
    payer: { openid: openid() },
    amount: { total: 3500, payer_total: 3500, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  };
}

/** The transaction encrypted and signed as WeChat Pay's platform would send it. */
export function wechatpayNotification(
  t: TestApp,
  transaction: object,
  opts: { timestamp?: number; nonce?: string } = {},
) {
  return buildWechatpayNotification({
    transaction,
    apiV3Key: APIV3_KEY,
    privateKeyPem: t.keys.wechatpay.privateKeyPem,
    ...opts,
  });
}

export function postWechatpay(t: TestApp, n: { headers: Record<string, string>; body: string }) {
  return t.http.post('/v1/receipts/wechatpay').set(n.headers).send(n.body);
}

/** A generic POS receipt body (payerId without the provider prefix). */
export function genericReceipt(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provider: 'sunmi-pos',
    tradeNo: uniqueTradeNo('POS'),
    payerId: `p${randomBytes(6).toString('hex')}`,
    accountId: `pos${randomBytes(6).toString('hex')}`,
    amountMinor: 3500,
    currency: 'CNY',
    paidAt: '2026-11-23T18:15:00+08:00',
    subject: '龙井茶 250g',
    items: [{ name: '龙井茶', quantity: 1, amountMinor: 3500 }],
    ...overrides,
  };
}

/**
 * POST /v1/receipts with a raw body; signed with the test secret unless `signature` is given
 * (null: no header).
 */
export function postGeneric(t: TestApp, body: string | object, signature?: string | null) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const req = t.http.post('/v1/receipts').set('content-type', 'application/json');
  const sig = signature === undefined ? signHmac(raw, HMAC_SECRET) : signature;
  if (sig !== null) req.set('x-hejie-signature', sig);
  return req.send(raw);
}

/** POST /v1/receipts/batch (NDJSON); signature as for postGeneric. */
export function postBatch(t: TestApp, body: string, signature?: string | null) {
  const req = t.http.post('/v1/receipts/batch').set('content-type', 'application/x-ndjson');
  const sig = signature === undefined ? signHmac(body, HMAC_SECRET) : signature;
  if (sig !== null) req.set('x-hejie-signature', sig);
  return req.send(body);
}
