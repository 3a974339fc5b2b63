import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { metricsRegistry } from '@app/shared';
import type { RedisClient } from '@app/shared';
import { Public } from '../http/auth';
import { REDIS } from './redis.provider';

@ApiTags('operations')
@Public()
@Controller()
export class OpsController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient,
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
    description: 'PostgreSQL and Redis answered a ping; 503 otherwise',
    schema: { example: { status: 'ok', checks: { postgres: 'ok', redis: 'ok' } } },
  })
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    await Promise.all([
      this.db
        .query('SELECT 1')
        .then(() => (checks.postgres = 'ok'))
        .catch((e: Error) => (checks.postgres = `down: ${e.message}`)),
      withTimeout(this.redis.ping(), 2000)
        .then(() => (checks.redis = 'ok'))
        .catch((e: Error) => (checks.redis = `down: ${e.message}`)),
    ]);
    const ok = Object.values(checks).every((v) => v === 'ok');
    if (!ok) void reply.status(503);
    return { status: ok ? 'ok' : 'down', checks };
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
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
