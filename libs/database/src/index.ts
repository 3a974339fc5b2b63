export * from './data-source-options';
export * from './database.module';
export * from './base-options';
export * from './read-router';
export * from './table-owners';
