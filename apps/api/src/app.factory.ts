import 'reflect-metadata';
import type { NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { loadRuleSets } from '@app/complaints';
import { httpRequestDuration, loadConfig } from '@app/shared';
import { AppModule, requestId } from './app.module';
import { BodyPolicies } from './http/body-policy';
import { registerContentParsers } from './http/content-parsers';
import { registerMultipart } from './http/multipart';
import { createValidationPipe } from './http/validation';
import { registerSecurityHeaders } from './http/security-headers';
import {
  BULL_BOARD_SESSION_OPENAPI,
  BULL_BOARD_SESSION_PATH,
  registerBullBoard,
} from './ops/bull-board';
import { registerWebApp } from './web/serve-web';
import { redactStreamToken } from './stream/redact-token';

export interface CreateAppOptions {
  /** Buffer logs until the pino logger is ready (true in production). */
  bufferLogs?: boolean;
  logger?: false;
}

/** Makes the Nest application on the Fastify adapter; tests may compile AppModule their own way. */
export type AppBuilder = (
  adapter: FastifyAdapter,
  options: NestApplicationOptions,
) => Promise<NestFastifyApplication>;

const fromAppModule: AppBuilder = (adapter, options) =>
  NestFactory.create<NestFastifyApplication>(AppModule, adapter, options);

/** Builds the HTTP app exactly as main.ts runs it; tests use the same function. */
export async function createApp(
  options: CreateAppOptions = {},
  build: AppBuilder = fromAppModule,
): Promise<NestFastifyApplication> {
  const config = loadConfig(process.env);
  loadRuleSets(config); // an invalid RULE_SETS_DIR or RULE_SET stops start-up before any connection
  const policies = new BodyPolicies(config);
  const adapter = new FastifyAdapter({
    // 1 MB for anything without a route of its own (404s included); every route gets its own
    // limit from BodyPolicies (onRoute), e.g. 64 MiB on the batch route.
    bodyLimit: policies.fallback.limit,
    // Slow or stalled clients cannot hold a connection (SECURITY.md, "Limits"): the whole
    // request within REQUEST_TIMEOUT, its headers within HEADERS_TIMEOUT, no silence longer
    // than CONNECTION_TIMEOUT, idle keep-alive closed after KEEP_ALIVE_TIMEOUT.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      // Node checks the two limits above on this period (default 30 s).
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1000, Math.floor(config.headersTimeoutMs / 4)),
      ),
    },
    genReqId: requestId,
    requestIdHeader: false,
    // X-Forwarded-* only from the configured proxies (TRUST_PROXY), never from anyone.
    trustProxy: config.trustProxy.length ? config.trustProxy : false,
    // Stream tickets (and old `?token=` links) leave URLs before anything logs them (stream/).
    rewriteUrl: redactStreamToken,
  });
  const app = await build(adapter, {
    bufferLogs: options.bufferLogs ?? true,
    abortOnError: false,
    bodyParser: false,
    ...(options.logger === false ? { logger: false } : {}),
  });
  if (options.logger !== false) app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  // First, so every route and scope registered after inherits the headers.
  await registerSecurityHeaders(fastify);
  registerContentParsers(fastify, policies);
  // Evidence uploads only (http/multipart.ts): streamed, with their own limits.
  await registerMultipart(fastify, config.attachmentMaxBytes);

  fastify.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  // Before any body is read: media type, declared length, integrator signature header, batch cap.
  policies.register(fastify);
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

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  const closeBoard = await registerBullBoard(app, config);
  fastify.addHook('onClose', async () => closeBoard());
  // The dashboards (dist/web) at /app/; the API starts without them (and says so).
  await registerWebApp(fastify);

  await app.init();
  await fastify.ready();
  return app;
}

/**
 * The OpenAPI document served at /docs-json. Also built without a server or a database by
 * scripts/gen-client.ts (an app created in Nest's preview mode) into docs/openapi.json, from
 * which scripts/gen-types.ts generates the dashboards' typed client (apps/web/src/api/schema.d.ts).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Hejie API')
      .setDescription(
        'One-tap consumer dispute resolution from payment receipts. Errors are RFC 9457 problem details (application/problem+json) with a stable `code`. Lists take `limit` (1–100, default 20) and an opaque `cursor`.',
      )
      .setVersion('1')
      .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
      .addServer('/', 'This deployment')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  document.paths[BULL_BOARD_SESSION_PATH] = BULL_BOARD_SESSION_OPENAPI as never;
  describePublicOperations(document);
  return document;
}

/**
 * Routes without a bearer token (health, provider notifications signed in their own way, the
 * public credit score and calendar, the SSE stream with its ticket) say so: `security: []`, so a
 * generated client does not send a token there. Every operation names a client error, in the
 * problem format, so integrators see the error shape on each route.
 */
function describePublicOperations(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      if (!op.security) op.security = [];
      if (!Object.keys(op.responses ?? {}).some((code) => code.startsWith('4'))) {
        op.responses = {
          ...op.responses,
          '4XX': {
            description:
              'A request the API refuses (RFC 9457 problem details with a stable `code`)',
          },
        };
      }
    }
  }
}
