import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { HejieConfig, loadConfig } from './hejie-config';

export const HEJIE_CONFIG = Symbol('HEJIE_CONFIG');

/**
 * @nestjs/config reads `.env` (when present) into process.env; the typed, validated result is
 * built when the application boots (so a bad value stops start-up naming the variable) and
 * injected everywhere as HEJIE_CONFIG.
 */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ ignoreEnvFile: process.env.NODE_ENV === 'test' })],
  providers: [{ provide: HEJIE_CONFIG, useFactory: (): HejieConfig => loadConfig(process.env) }],
  exports: [HEJIE_CONFIG],
})
export class HejieConfigModule {}
