/*
 * `npm run gen:client`: the API's contract as a file, and the dashboards' typed client from it.
 *
 * The document is built in-process, as /docs-json serves it (buildOpenApiDocument), from an app
 * created in Nest's preview mode: the controllers and DTOs are read, no provider is instantiated,
 * so neither PostgreSQL nor Redis nor a listening server is needed. It is written to
 * docs/openapi.json (committed: the contract integrators read and reviewers diff;
 * test/client-schema.e2e-spec.ts fails when it is stale), then turned into
 * apps/web/src/api/schema.d.ts (scripts/gen-types.ts). `--stdout` prints the document instead
 * (the test compares it; openapi-typescript is ESM inside, so the test runs this in a child).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPI3 } from 'openapi-typescript';
import { AppModule } from '../apps/api/src/app.module';
import { buildOpenApiDocument } from '../apps/api/src/app.factory';
import { DOCUMENT_FILE, SCHEMA_FILE, generateSchema, writeGenerated } from './gen-types';

/** The API's OpenAPI document, without a server or a database. */
export async function openApiDocument(): Promise<OpenAPI3> {
  // loadConfig refuses to start without its secrets; preview mode never uses them.
  const env: Record<string, string> = {
    JWT_SECRET: 'preview-only-not-a-secret-0123456789abcdef',
    PII_KEY: Buffer.alloc(32).toString('base64'),
    RECEIPT_HMAC_SECRET: 'preview-only',
    LOG_LEVEL: 'silent',
  };
  for (const [k, v] of Object.entries(env)) process.env[k] ??= v;
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildOpenApiDocument(app) as unknown as OpenAPI3;
  } finally {
    await app.close();
  }
}

/** docs/openapi.json's text: two-space JSON and a final newline. */
export async function generateDocument(): Promise<string> {
  return `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  generateDocument()
    .then(async (document) => {
      if (process.argv.includes('--stdout')) {
        process.stdout.write(document);
        return;
      }
      writeGenerated(DOCUMENT_FILE, document);
      writeGenerated(SCHEMA_FILE, await generateSchema(JSON.parse(document) as OpenAPI3));
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
