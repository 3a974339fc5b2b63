import { Logger } from 'nestjs-pino';
import { createWorker } from './worker.factory';

createWorker()
  .then((app) => app.get(Logger).log('worker started'))
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
