export * from './partitions.service';
