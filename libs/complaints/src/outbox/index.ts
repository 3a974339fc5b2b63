export * from './outbox.jobs';
export * from './outbox-retention.service';
