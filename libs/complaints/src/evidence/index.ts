export * from './attachment.view';
export * from './blob-store';
export * from './evidence-policy';
export * from './evidence.service';
export * from './evidence.module';
export * from './upload-form';
