import { Controller, Inject, Logger, Post, Query, Req, Res, Get } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiQuery,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, HejieConfig } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { CurrentActor, Public } from '../http/auth';
import { callerKey } from '../http/write-rate-limit';
import { pipeEventsToResponse } from './sse-writer';
import { streamTicketOf } from './redact-token';
import { StreamHub } from './stream.hub';
import { StreamSlots } from './stream-slots';
import { StreamTickets } from './stream-tickets';
import { StreamReadyEvent, StreamTicketEvent } from './stream.dto';

export class StreamTicketDto {
  @ApiProperty({ description: 'single use, for GET /v1/stream?ticket=…' }) ticket: string;
  @ApiProperty({ description: 'unused tickets expire then (STREAM_TICKET_TTL, 60 s)' })
  expiresAt: string;
}

@ApiTags('stream')
@ApiExtraModels(StreamReadyEvent, StreamTicketEvent)
@Controller('v1/stream')
export class StreamController {
  private readonly logger = new Logger(StreamController.name);

  constructor(
    private readonly hub: StreamHub,
    private readonly tickets: StreamTickets,
    private readonly slots: StreamSlots,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {}

  @Post('ticket')
  @ApiOperation({
    summary: 'Trade the bearer token for a single-use stream ticket',
    description:
      'EventSource cannot send an Authorization header, and a JWT in a URL is logged by proxies and kept in browser history. This returns a random ticket valid once, for STREAM_TICKET_TTL (60 s), to open GET /v1/stream?ticket=…; the stream then lasts until the token itself expires. Get a new ticket for every (re)connection.',
  })
  @ApiCreatedResponse({ type: StreamTicketDto })
  @ApiProblems('UNAUTHENTICATED', 'RATE_LIMITED')
  async ticket(@CurrentActor() actor: Actor, @Req() req: FastifyRequest): Promise<StreamTicketDto> {
    return this.tickets.issue(actor, req.tokenExpiresAtMs ?? null);
  }

  @Get()
  @Public()
  @ApiOperation({
    summary: 'Live ticket changes (server-sent events) for the dashboards',
    description:
      'text/event-stream, opened with a ticket from POST /v1/stream/ticket (single use; a used, unknown or expired ticket is 401). Events (the 200 response describes each message: its `event`, `id` and JSON `data`): `ready` once connected (reload your lists then), `ticket` with `{ ticket, lastEventType }` whenever a ticket the caller may see changes (same shape and masking as GET /v1/complaints/:id, without `serialComplainant`); a comment line every 20 s keeps proxies from closing an idle stream. The stream ends when the token the ticket came from expires. At most STREAM_MAX_PER_CALLER (5) open streams per caller and STREAM_MAX_TOTAL (1000) per API process (429 RATE_LIMITED beyond); a client that stops reading is disconnected once STREAM_MAX_BUFFER_BYTES stay unsent for STREAM_SLOW_READER_GRACE. Changes are read from the outbox about once a second (STREAM_POLL_INTERVAL_MS).',
  })
  @ApiQuery({ name: 'ticket', required: true, description: 'from POST /v1/stream/ticket' })
  @ApiOkResponse({
    description: 'an event stream; each message is one of these, told apart by its `event` line',
    content: {
      'text/event-stream': {
        schema: {
          oneOf: [
            { $ref: getSchemaPath(StreamReadyEvent) },
            { $ref: getSchemaPath(StreamTicketEvent) },
          ],
          discriminator: {
            propertyName: 'event',
            mapping: {
              ready: getSchemaPath(StreamReadyEvent),
              ticket: getSchemaPath(StreamTicketEvent),
            },
          },
        },
      },
    },
  })
  @ApiProblems('UNAUTHENTICATED', 'RATE_LIMITED')
  async stream(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('ticket') query?: string,
  ): Promise<void> {
    // The ticket was moved out of the URL before routing (redact-token.ts).
    const ticket = streamTicketOf(req.raw) ?? query;
    if (typeof ticket !== 'string' || !ticket || ticket === '[redacted]') {
      throw new DomainError(
        'UNAUTHENTICATED',
        'a ticket query parameter is required (POST /v1/stream/ticket)',
      );
    }
    const redeemed = await this.tickets.redeem(ticket);
    if (!redeemed) {
      throw new DomainError(
        'UNAUTHENTICATED',
        'unknown, used or expired stream ticket (get a new one: POST /v1/stream/ticket)',
      );
    }
    const release = this.slots.take(callerKey(redeemed.actor));
    const events = this.hub.subscribe(redeemed.actor, redeemed.tokenExpiresAtMs);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    pipeEventsToResponse(
      events,
      res,
      {
        maxBufferBytes: this.config.streamMaxBufferBytes,
        graceMs: this.config.streamSlowReaderGraceMs,
      },
      (reason) => {
        release();
        if (reason === 'slow-reader') {
          this.logger.warn(
            `closed the event stream of ${redeemed.actor.role} ${redeemed.actor.sub}: it stopped reading`,
          );
        }
      },
    );
  }
}
