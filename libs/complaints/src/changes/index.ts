export * from './change';
export * from './change-writer';
export * from './transitions';
