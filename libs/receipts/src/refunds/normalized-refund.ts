/** A refund notification after signature verification, in one provider-neutral shape. */
export interface NormalizedRefund {
  /** 'alipay' | 'wechatpay' | a generic provider name. */
  provider: string;
  /** The payment it refunds: matched to the receipt by (provider, tradeNo). */
  tradeNo: string;
  /** Alipay out_biz_no, WeChat Pay refund_id, generic refundNo. */
  refundNo: string;
  /** This refund's amount (minor units), when the provider says it (WeChat Pay, generic). */
  amountMinor?: number;
  /**
   * Alipay: the total refunded on the trade so far (refund_fee); this refund's amount is that
   * total minus what is already recorded for the trade, computed when it is stored.
   */
  refundedTotalMinor?: number;
  currency: string;
  refundedAt: Date;
}
