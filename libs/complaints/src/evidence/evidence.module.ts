import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CasePacketService } from '../case-packet/case-packet.service';
import { ComplaintsModule } from '../complaints.module';
import { BLOB_STORE, PgBlobStore } from './blob-store';
import { EvidenceService } from './evidence.service';

/** Evidence and the case packet; the blob store is PostgreSQL unless another is provided. */
@Module({
  imports: [ComplaintsModule],
  providers: [
    EvidenceService,
    CasePacketService,
    {
      provide: BLOB_STORE,
      inject: [getDataSourceToken()],
      useFactory: (db: DataSource) => new PgBlobStore(db),
    },
  ],
  exports: [EvidenceService, CasePacketService, BLOB_STORE],
})
export class EvidenceModule {}
