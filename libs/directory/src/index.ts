export * from './credit-code';
export * from './directory.entities';
export * from './directory.service';
export * from './directory.module';
export * from './keyset-cursor';
export * from './webhook-secret';
export * from './webhook-url';
export * from './regions';
