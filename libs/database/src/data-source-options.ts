import { DataSourceOptions } from 'typeorm';
import { DIRECTORY_ENTITIES } from '@app/directory';
import { Receipt } from '@app/receipts';
import { baseDataSourceOptions } from './base-options';

export const ENTITIES = [...DIRECTORY_ENTITIES, Receipt];

/**
 * The one set of TypeORM options used by the API, the worker, the migration CLI and the tests.
 * The schema comes only from migrations/: synchronize stays off.
 */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return { ...baseDataSourceOptions(databaseUrl), entities: ENTITIES };
}
