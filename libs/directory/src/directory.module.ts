import { Module } from '@nestjs/common';
import { DirectoryService } from './directory.service';
import { WEBHOOK_RESOLVER, systemResolver } from './webhook-url';

@Module({
  providers: [DirectoryService, { provide: WEBHOOK_RESOLVER, useValue: systemResolver }],
  exports: [DirectoryService, WEBHOOK_RESOLVER],
})
export class DirectoryModule {}
