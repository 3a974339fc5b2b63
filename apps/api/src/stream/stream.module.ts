import { Module } from '@nestjs/common';
import { ComplaintsModule } from '@app/complaints';
import { HEJIE_CONFIG } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { StreamSlots } from './stream-slots';
import { StreamTickets } from './stream-tickets';
import { StreamController } from './stream.controller';
import { StreamHub } from './stream.hub';

/** Server-sent events for the dashboards (GET /v1/stream). */
@Module({
  imports: [ComplaintsModule],
  controllers: [StreamController],
  providers: [
    StreamHub,
    StreamTickets,
    {
      provide: StreamSlots,
      inject: [HEJIE_CONFIG],
      useFactory: (c: HejieConfig) => new StreamSlots(c.streamMaxPerCaller, c.streamMaxTotal),
    },
  ],
  exports: [StreamHub],
})
export class StreamModule {}
