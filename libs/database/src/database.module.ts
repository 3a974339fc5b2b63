import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { dataSourceOptions } from './data-source-options';
import { ReadRouter } from './read-router';

/** Global: ReadRouter is injected wherever a read may go to the replica. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [HEJIE_CONFIG],
      useFactory: (config: HejieConfig) => dataSourceOptions(config.databaseUrl),
    }),
  ],
  providers: [ReadRouter],
  exports: [ReadRouter],
})
export class DatabaseModule {}
