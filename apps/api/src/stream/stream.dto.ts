import { ApiProperty } from '@nestjs/swagger';
import { ROLES } from '@app/shared';
import type { Role } from '@app/shared';
import { TicketResponse } from '../complaints/complaints.dto';
import type { Assignable, Expect, Same } from '../http/contracts';
import type { StreamReady, TicketStreamEvent } from './stream.hub';

/*
 * GET /v1/stream in the OpenAPI document: each server-sent event is described by its SSE fields
 * (`event`, `id`, `data`; `data` is one line of JSON), and the operation's `text/event-stream`
 * content is oneOf these messages, told apart by `event`. The dashboards' client types its
 * EventSource listeners from it (apps/web/src/live.tsx).
 */

/** `data` of the `ready` event. */
export class StreamReadyData {
  @ApiProperty({ enum: ROLES, description: 'the role the stream was opened for' })
  role: Role;
  @ApiProperty({
    description: 'how often the server reads ticket changes (STREAM_POLL_INTERVAL_MS), in ms',
  })
  pollIntervalMs: number;
}

/** `data` of a `ticket` event. */
export class StreamTicketData {
  @ApiProperty({
    type: TicketResponse,
    description:
      'the ticket as the caller may see it now: the shape and masking of GET /v1/complaints/:id, without serialComplainant, officeName and casePacket',
  })
  ticket: TicketResponse;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'type of the ticket’s latest trail event (e.g. offer_made, regulator_viewed)',
  })
  lastEventType: string | null;
}

export class StreamReadyEvent {
  @ApiProperty({ enum: ['ready'], description: 'SSE `event:` line' }) event: 'ready';
  @ApiProperty({
    type: StreamReadyData,
    description:
      'SSE `data:` line (JSON). Sent once the stream is connected: reload your lists then, so that nothing falls between the last fetch and the stream',
  })
  data: StreamReadyData;
}

export class StreamTicketEvent {
  @ApiProperty({ enum: ['ticket'], description: 'SSE `event:` line' }) event: 'ticket';
  @ApiProperty({
    description: 'SSE `id:` line: `<ticket id>:<event count>`, names this state of the ticket',
  })
  id: string;
  @ApiProperty({
    type: StreamTicketData,
    description: 'SSE `data:` line (JSON). Sent whenever a ticket the caller may see changes',
  })
  data: StreamTicketData;
}

/* The documented payloads are the hub's (../http/contracts.ts). */
export type StreamContracts = [
  Expect<Same<StreamReady, StreamReadyData>>,
  Expect<Assignable<TicketStreamEvent, StreamTicketData>>,
  Expect<Assignable<Omit<StreamTicketData, 'ticket'>, Omit<TicketStreamEvent, 'ticket'>>>,
];
