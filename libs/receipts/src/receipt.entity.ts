import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

const bigintAsNumber = {
  to: (v: number) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

@Entity({ name: 'receipts' })
/**
 * Partitioned by month of paid_at (docs/SCALE.md "Partitions"): (provider, tradeNo) is unique
 * through receipt_keys; this index is the per-partition lookup. The schema comes from migrations.
 */
@Index('ix_receipts_provider_trade_no', ['provider', 'tradeNo'])
@Index('ix_receipts_payer_paid_at', ['payerId', 'paidAt', 'id'])
export class Receipt {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  provider: string;

  @Column({ name: 'trade_no', type: 'text' })
  tradeNo: string;

  /** Provider-scoped payer id, e.g. `alipay:2088102177846880`: the consumer's JWT `sub`. */
  @Column({ name: 'payer_id', type: 'text' })
  payerId: string;

  @Column({ name: 'account_id', type: 'text' })
  accountId: string;

  @Column({ name: 'merchant_id', type: 'uuid', nullable: true })
  merchantId: string | null;

  @Column({ name: 'store_id', type: 'uuid', nullable: true })
  storeId: string | null;

  @Column({ name: 'region_code', type: 'char', length: 6, nullable: true })
  regionCode: string | null;

  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintAsNumber })
  amountMinor: number;

  @Column({ type: 'char', length: 3 })
  currency: string;

  @Column({ name: 'paid_at', type: 'timestamptz', precision: 3 })
  paidAt: Date;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'jsonb', nullable: true })
  items: unknown;

  /** sha256 of the normalised facts: a re-delivery matches it, a different payload does not. */
  @Column({ type: 'char', length: 64 })
  fingerprint: string;

  /** The notification exactly as received: it is evidence. */
  @Column({ name: 'raw_notification', type: 'text' })
  rawNotification: string;

  @Column({ name: 'raw_content_type', type: 'text' })
  rawContentType: string;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz', precision: 3 })
  receivedAt: Date;
}
