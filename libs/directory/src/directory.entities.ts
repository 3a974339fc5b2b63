import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';

@Entity({ name: 'merchants' })
export class Merchant {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Index('uq_merchants_credit_code', { unique: true })
  @Column({ name: 'credit_code', type: 'char', length: 18 })
  creditCode: string;

  @Column({ name: 'contact_email', type: 'text', nullable: true })
  contactEmail: string | null;

  @Column({ name: 'webhook_url', type: 'text', nullable: true })
  webhookUrl: string | null;

  /** Sealed signing secret (see webhook-secret.ts); never selected unless asked for. */
  @Column({ name: 'webhook_secret', type: 'text', nullable: true, select: false })
  webhookSecretSealed: string | null;

  @Column({ name: 'webhook_secret_key_id', type: 'text', nullable: true, select: false })
  webhookSecretKeyId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @OneToMany(() => Store, (s) => s.merchant)
  stores: Store[];
}

@Entity({ name: 'stores' })
export class Store {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('ix_stores_merchant')
  @Column({ name: 'merchant_id', type: 'uuid' })
  merchantId: string;

  @ManyToOne(() => Merchant, (m) => m.stores, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'merchant_id' })
  merchant: Merchant;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  address: string;

  @Column({ name: 'region_code', type: 'char', length: 6 })
  regionCode: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @OneToMany(() => PaymentAccount, (a) => a.store)
  paymentAccounts: PaymentAccount[];
}

/** The key (provider, account id) is the primary key: a payment account belongs to one store. */
@Entity({ name: 'payment_accounts' })
export class PaymentAccount {
  @PrimaryColumn({ type: 'text' })
  provider: string;

  @PrimaryColumn({ name: 'account_id', type: 'text' })
  accountId: string;

  @Index('ix_payment_accounts_store')
  @Column({ name: 'store_id', type: 'uuid' })
  storeId: string;

  @ManyToOne(() => Store, (s) => s.paymentAccounts, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'store_id' })
  store: Store;
}

export type OfficeKind = 'regulator' | 'partner';

@Entity({ name: 'offices' })
export class Office {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: 'regulator' })
  kind: OfficeKind;

  /** The rule set (time limits) the office works under; tickets copy it at escalation. */
  @Column({ name: 'rule_set', type: 'text', default: 'cn-12315' })
  ruleSet: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @OneToMany(() => OfficeRegion, (r) => r.office, { cascade: ['insert'] })
  regions: OfficeRegion[];
}

/** One row per region-code prefix an office covers; routing takes the longest match. */
@Entity({ name: 'office_regions' })
export class OfficeRegion {
  @PrimaryColumn({ name: 'office_id', type: 'uuid' })
  officeId: string;

  @PrimaryColumn({ type: 'varchar', length: 6 })
  prefix: string;

  @ManyToOne(() => Office, (o) => o.regions, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'office_id' })
  office: Office;
}

export const DIRECTORY_ENTITIES = [Merchant, Store, PaymentAccount, Office, OfficeRegion];
