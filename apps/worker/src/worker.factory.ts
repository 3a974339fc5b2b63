import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { loadRuleSets } from '@app/complaints';
import { loadConfig } from '@app/shared';
import { WorkerModule } from './worker.module';

/** Builds the worker exactly as `npm run start:worker` runs it; tests use the same function. */
export async function createWorker(options: { logger?: false } = {}) {
  // Configuration and rule sets are checked before any connection is opened.
  loadRuleSets(loadConfig(process.env));
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    bufferLogs: options.logger !== false,
    abortOnError: false,
    ...(options.logger === false ? { logger: false } : {}),
  });
  if (options.logger !== false) app.useLogger(app.get(Logger));
  // SIGTERM/SIGINT: Nest closes the BullMQ workers (running jobs finish) and the database pool.
  app.enableShutdownHooks();
  await app.init();
  return app;
}
