import { Module } from '@nestjs/common';
import { ComplaintsModule } from '@app/complaints';
import { StreamController } from './stream.controller';
import { StreamHub } from './stream.hub';

/** Server-sent events for the dashboards (GET /v1/stream). */
@Module({
  imports: [ComplaintsModule],
  controllers: [StreamController],
  providers: [StreamHub],
  exports: [StreamHub],
})
export class StreamModule {}
