export * from './settlement-rules';
export * from './settlement.service';
