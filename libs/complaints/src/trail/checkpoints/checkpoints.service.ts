import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CLOCK, DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import { ReadingUseCase } from '../../use-cases/reading';
import type { SignedCheckpoint, TrailProof } from './checkpoint';
import { TreeCache, createCheckpoint, listCheckpoints, proofFor } from './checkpoint.store';

/** The worker's checkpoint round and the API's reads (API.md "Checkpoints"). */
@Injectable()
export class CheckpointsService {
  private readonly logger = new Logger(CheckpointsService.name);
  /** The last two checkpoints' trees: most proofs are asked against the latest ones. */
  private readonly trees = new TreeCache(2);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly reading: ReadingUseCase,
  ) {}

  get enabled(): boolean {
    return this.config.trailSigningKey !== null;
  }

  /** One round: the checkpoint of this interval, unless another worker made it (null). */
  async runOnce(now: Date = this.clock.now()): Promise<SignedCheckpoint | null> {
    if (!this.config.trailSigningKey) return null;
    const made = await createCheckpoint(
      this.db,
      this.config.trailSigningKey,
      now,
      this.config.checkpointIntervalMs,
    );
    if (made) this.logger.log(`checkpoint #${made.seq}: ${made.size} ticket(s), root ${made.root}`);
    return made;
  }

  async list(
    after: number,
    limit: number,
  ): Promise<{ items: SignedCheckpoint[]; nextCursor: string | null }> {
    const items = await listCheckpoints(this.db.manager, after, limit + 1);
    const more = items.length > limit;
    const page = items.slice(0, limit);
    return { items: page, nextCursor: more ? String(page[page.length - 1].seq) : null };
  }

  /** The ticket's audit path to a checkpoint (for whoever may see the ticket). */
  async proof(id: string, actor: Actor, seq?: number): Promise<TrailProof> {
    await this.reading.view(id, actor, this.clock.now()); // 404 for those who may not see it
    const proof = await proofFor(this.db.manager, id, seq, this.trees);
    if (!proof) {
      throw new DomainError(
        'NOT_FOUND',
        seq === undefined
          ? `no checkpoint covers complaint ${id} yet (checkpoints are made every CHECKPOINT_INTERVAL)`
          : `checkpoint ${seq} does not cover complaint ${id}`,
      );
    }
    return proof;
  }
}
