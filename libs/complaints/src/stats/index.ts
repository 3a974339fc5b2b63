export * from './measures';
export * from './stats.jobs';
export * from './stats.service';
