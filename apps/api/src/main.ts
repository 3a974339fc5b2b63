import { loadConfig } from '@app/shared';
import { createApp } from './app.factory';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp();
  await app.listen({ port: config.port, host: config.host });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
