export * from './blob-store';
export * from './evidence-policy';
export * from './evidence.service';
export * from './evidence.module';
