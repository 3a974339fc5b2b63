export * from './receipt.entity';
export * from './receipts.service';
export * from './receipt-intake.service';
export * from './receipts.module';
export * from './verifiers';
export * from './refunds/refunds.service';
export type { NormalizedRefund } from './refunds/normalized-refund';
export * from './receipt-reads';
export * from './partition-retention';
