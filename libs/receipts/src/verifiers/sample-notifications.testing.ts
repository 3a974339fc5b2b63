/*
 * For specs: one sample of each provider's payment notification, as the provider fills it in,
 * for a spec to vary with what its case is about (a refund, characters the signers must keep, a
 * field missing). Signed with test-signers.ts.
 */

/** The APIv3 key (32 bytes) the samples' WeChat Pay resources are encrypted under. */
export const TEST_API_V3_KEY = 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6';

/** The params of an Alipay payment notification (trade_status_sync, TRADE_SUCCESS), unsigned. */
export const ALIPAY_PAYMENT: Readonly<Record<string, string>> = {
  app_id: '2021000000000000',
  notify_id: '2026112300222100005081234567890123',
  notify_type: 'trade_status_sync',
  notify_time: '2026-11-23 10:00:05',
  charset: 'utf-8',
  version: '1.0',
  trade_no: '2026112322001404561234567890',
  out_trade_no: 'ORDER-20261123-0001',
  buyer_id: '2088102177846875',
  seller_id: '2088101117955611',
  total_amount: '12.50',
  receipt_amount: '12.50',
  trade_status: 'TRADE_SUCCESS',
  gmt_create: '2026-11-23 09:59:58',
  gmt_payment: '2026-11-23 10:00:02',
  subject: 'Coffee',
};

/** The decrypted resource of a WeChat Pay payment notification (TRANSACTION.SUCCESS). */
export const WECHATPAY_TRANSACTION = {
  mchid: '1230000109',
  appid: 'wxd678efh567hg6787',
  out_trade_no: 'ORDER-20261123-0001',
  transaction_id: '4200001234202611230123456789',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'CMC',
  attach: '',
  success_time: '2026-11-23T10:00:02+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total: 1250, payer_total: 1250, currency: 'CNY', payer_currency: 'CNY' },
};

/** The decrypted resource of a WeChat Pay refund notification (REFUND.SUCCESS): 30.00 of 122.50. */
export const WECHATPAY_REFUND = {
  mchid: '1230000109',
  out_trade_no: 'ORDER-1',
  transaction_id: '4200001234202611230123456789',
  out_refund_no: 'RF-1',
  refund_id: '50000000382019052709732678859',
  refund_status: 'SUCCESS',
  success_time: '2026-11-25T10:00:01+08:00',
  user_received_account: '招商银行信用卡0403',
  amount: { total: 12250, refund: 3000, payer_total: 12250, payer_refund: 3000 },
};
