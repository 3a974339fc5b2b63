export * from './merkle';
export * from './checkpoint';
export * from './checkpoint.store';
export * from './checkpoints.service';
export * from './checkpoint.jobs';
