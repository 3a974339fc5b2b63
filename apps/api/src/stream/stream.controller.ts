import { Controller, Query, Req, Sse } from '@nestjs/common';
import type { MessageEvent } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { DomainError } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { Public, actorFromClaims } from '../http/auth';
import { streamTokenOf } from './redact-token';
import { StreamHub } from './stream.hub';

@ApiTags('stream')
@Controller('v1/stream')
export class StreamController {
  constructor(
    private readonly jwt: JwtService,
    private readonly hub: StreamHub,
  ) {}

  /**
   * EventSource cannot send an Authorization header, so the same JWT comes in the query. It is
   * checked here exactly as the global guard checks bearer tokens (HS256, `exp`, role claims),
   * and never appears in logged URLs (see redact-token.ts).
   */
  @Sse()
  @Public()
  @ApiOperation({
    summary: 'Live ticket changes (server-sent events) for the dashboards',
    description:
      'text/event-stream. `token` is the caller’s JWT (EventSource cannot send headers). Events: `ready` once connected (reload your lists then), `ticket` with `{ ticket, lastEventType }` whenever a ticket the caller may see changes (same shape and masking as GET /v1/complaints/:id, without `serialComplainant`). The stream ends when the token expires. Changes are read from the outbox about once a second (STREAM_POLL_INTERVAL_MS).',
  })
  @ApiQuery({ name: 'token', required: true, description: 'the caller’s JWT' })
  @ApiOkResponse({ description: 'an event stream', content: { 'text/event-stream': {} } })
  @ApiProblems('UNAUTHENTICATED')
  stream(@Req() req: FastifyRequest, @Query('token') query?: string): Observable<MessageEvent> {
    // The URL's token was moved aside before routing (redact-token.ts); the query keeps a mark.
    const token = streamTokenOf(req.raw) ?? query;
    if (typeof token !== 'string' || !token) {
      throw new DomainError(
        'UNAUTHENTICATED',
        'a token query parameter is required (EventSource cannot send headers)',
      );
    }
    let claims: { exp?: unknown } & Record<string, unknown>;
    try {
      claims = this.jwt.verify(token, { algorithms: ['HS256'] });
    } catch (e) {
      throw new DomainError('UNAUTHENTICATED', `token rejected: ${(e as Error).message}`);
    }
    const actor = actorFromClaims(claims);
    return this.hub.subscribe(actor, typeof claims.exp === 'number' ? claims.exp * 1000 : null);
  }
}
