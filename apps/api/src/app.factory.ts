import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { httpRequestDuration, loadConfig } from '@app/shared';
import { AppModule, requestId } from './app.module';
import { registerContentParsers } from './http/content-parsers';
import { registerMultipart } from './http/multipart';
import { createValidationPipe } from './http/validation';
import { registerBullBoard } from './ops/bull-board';
import { registerWebApp } from './web/serve-web';
import { redactStreamToken } from './stream/redact-token';

export interface CreateAppOptions {
  /** Buffer logs until the pino logger is ready (true in production). */
  bufferLogs?: boolean;
  logger?: false;
}

/** Builds the HTTP app exactly as main.ts runs it; tests use the same function. */
export async function createApp(options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const config = loadConfig(process.env);
  const adapter = new FastifyAdapter({
    // The global cap is the batch limit; every content parser applies its own, smaller one.
    bodyLimit: config.batchBodyLimitBytes,
    genReqId: requestId,
    requestIdHeader: false,
    trustProxy: true,
    // EventSource sends its JWT in the query: keep it out of URLs that get logged (stream/).
    rewriteUrl: redactStreamToken,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, {
    bufferLogs: options.bufferLogs ?? true,
    abortOnError: false,
    bodyParser: false,
    ...(options.logger === false ? { logger: false } : {}),
  });
  if (options.logger !== false) app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  registerContentParsers(fastify, config.bodyLimitBytes, config.batchBodyLimitBytes);
  // Evidence uploads only (http/multipart.ts): streamed, with their own limits.
  await registerMultipart(fastify, config.attachmentMaxBytes);

  fastify.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  fastify.addHook('onResponse', async (req, reply) => {
    httpRequestDuration.observe(
      {
        method: req.method,
        route: req.routeOptions?.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  // Errors raised before Nest's router (body parsing, limits, media types) reach Nest's own
  // Fastify error handler, which hands them to ProblemFilter (see http/problem.filter.ts).

  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Hejie API')
      .setDescription(
        'One-tap consumer dispute resolution from payment receipts. Errors are RFC 9457 problem details (application/problem+json) with a stable `code`. Lists take `limit` (1–100, default 20) and an opaque `cursor`.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  const closeBoard = await registerBullBoard(app, config);
  fastify.addHook('onClose', async () => closeBoard());
  // The dashboards (dist/web) at /app/; the API starts without them (and says so).
  await registerWebApp(fastify);

  await app.init();
  await fastify.ready();
  return app;
}
