export * from './sealed';
