import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';

/** Connection and migrations without entities: enough to migrate a database (tests, CLI). */
export function baseDataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    migrations: MIGRATIONS,
    migrationsTableName: 'hejie_migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: Number(process.env.DATABASE_POOL_SIZE ?? 20) },
  };
}
