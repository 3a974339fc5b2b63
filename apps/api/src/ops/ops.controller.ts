import { Controller, Get, Header, Headers, Inject, Logger, Res } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, HEJIE_CONFIG, metricsRegistry } from '@app/shared';
import type { HejieConfig, RedisClient } from '@app/shared';
import { Public } from '../http/auth';
import { REDIS } from './redis.provider';

@ApiTags('operations')
@Public()
@Controller()
export class OpsController {
  private readonly logger = new Logger(OpsController.name);
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ description: 'The process is alive', schema: { example: { status: 'ok' } } })
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Redis answer' })
  @ApiOkResponse({
    description:
      'PostgreSQL and Redis answered a ping; 503 otherwise. Each dependency is `ok` or `down`, without error text (the reason is in the API log).',
    schema: { example: { status: 'ok', checks: { postgres: 'ok', redis: 'ok' } } },
  })
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    // Public and unauthenticated: say what is down, never why (host names, ports, versions).
    const down = (name: string) => (e: Error) => {
      checks[name] = 'down';
      this.logger.warn(`readiness: ${name} is down: ${e.message}`);
    };
    await Promise.all([
      withTimeout(this.db.query('SELECT 1'), 2000)
        .then(() => (checks.postgres = 'ok'))
        .catch(down('postgres')),
      withTimeout(this.redis.ping(), 2000)
        .then(() => (checks.redis = 'ok'))
        .catch(down('redis')),
    ]);
    const ok = Object.values(checks).every((v) => v === 'ok');
    if (!ok) void reply.status(503);
    return { status: ok ? 'ok' : 'down', checks };
  }

  /**
   * Prometheus scrape: `Authorization: Bearer <METRICS_TOKEN>`; 401 without it, 404 when
   * METRICS_TOKEN is unset (the endpoint is then off).
   */
  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(@Headers('authorization') authorization?: string): Promise<string> {
    const expected = this.config.metricsToken;
    if (expected === null) throw new DomainError('NOT_FOUND', 'no such resource');
    const m = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
    if (!m || !sameSecret(m[1], expected)) {
      throw new DomainError('UNAUTHENTICATED', 'Authorization: Bearer <METRICS_TOKEN> is required');
    }
    return metricsRegistry.metrics();
  }
}

/** Constant-time comparison (of digests, so lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const h = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(h(given), h(expected));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
