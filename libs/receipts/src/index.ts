export * from './receipt.entity';
export * from './receipts.service';
export * from './receipt-intake.service';
export * from './receipts.module';
export * from './verifiers';
