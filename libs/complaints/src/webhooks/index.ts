export * from './webhook.jobs';
export * from './webhook-events';
export * from './webhook-signature';
export * from './webhooks.service';
export * from './webhook-http';
