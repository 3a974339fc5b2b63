import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CheckpointsService } from '@app/complaints';
import type { SignedCheckpoint, TrailProof } from '@app/complaints';
import { DEFAULT_LIMIT } from '@app/shared';
import type { Actor } from '@app/shared';
import { ApiProblems, TicketRead } from '../http/api-problems';
import { CurrentActor, Public } from '../http/auth';
import { IdParam } from '../http/id-param';
import { CheckpointPage, CheckpointsQuery, ProofQuery, ProofResponse } from './trail.dto';

@ApiTags('trail')
@Controller('v1')
export class TrailController {
  constructor(private readonly checkpoints: CheckpointsService) {}

  @Get('trail/checkpoints')
  @Public()
  @ApiOperation({
    summary: 'Signed trail checkpoints (public), oldest first',
    description:
      'With TRAIL_SIGNING_KEY the worker makes one checkpoint per CHECKPOINT_INTERVAL: an RFC 6962 Merkle tree over the head hashes of the tickets changed since the previous one (leaf = sha256(0x00 ‖ head hash bytes), node = sha256(0x01 ‖ left ‖ right); leaves in ticket-id order), signed with Ed25519. Keep copies outside Hejie (docs/TRAIL.md): a saved checkpoint proves every ticket it covers, whatever is later written to the database. `after` (or `cursor` = the previous page’s nextCursor) is a seq.',
  })
  @ApiOkResponse({ type: CheckpointPage })
  @ApiProblems('VALIDATION_FAILED')
  list(
    @Query() q: CheckpointsQuery,
  ): Promise<{ items: SignedCheckpoint[]; nextCursor: string | null }> {
    const after = q.cursor !== undefined ? Number(q.cursor) : (q.after ?? 0);
    return this.checkpoints.list(after, q.limit ?? DEFAULT_LIMIT);
  }

  @Get('complaints/:id/events/proof')
  @TicketRead('VALIDATION_FAILED')
  @ApiOperation({
    summary: 'The ticket’s audit path to a signed checkpoint',
    description:
      'Whoever may see the ticket. Default: the latest checkpoint that covers the ticket; `checkpoint=<seq>` asks for a given one (e.g. a saved copy). Verify with `npm run trail:verify -- <ticket id> <checkpoint file>`: the events chain to `headHash` at event #eventCount, the path leads from it to the signed root. 404 when no checkpoint covers the ticket yet.',
  })
  @ApiOkResponse({ type: ProofResponse })
  proof(
    @IdParam('id') id: string,
    @Query() q: ProofQuery,
    @CurrentActor() actor: Actor,
  ): Promise<TrailProof> {
    return this.checkpoints.proof(id, actor, q.checkpoint);
  }
}
