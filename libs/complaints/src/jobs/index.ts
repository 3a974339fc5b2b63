export * from './jobs';
export * from './deadline-scheduler';
