import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed trail checkpoints (RFC 6962 Merkle trees over changed tickets' head hashes). `bucket`
 * is the CHECKPOINT_INTERVAL time bucket: unique, so two workers make one checkpoint per
 * interval. The leaves are kept so that proofs can be served; `trail_checkpoint_heads` holds the
 * last checkpointed head of each ticket (what "changed since the last checkpoint" compares with).
 */
export class TrailCheckpoints1764700710000 implements MigrationInterface {
  name = 'TrailCheckpoints1764700710000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE trail_checkpoints (
        seq bigint PRIMARY KEY,
        bucket bigint NOT NULL,
        at timestamptz(3) NOT NULL,
        root char(64) NOT NULL,
        size integer NOT NULL,
        prev_root char(64),
        signed text NOT NULL,
        signature text NOT NULL,
        public_key text NOT NULL,
        CONSTRAINT uq_trail_checkpoints_bucket UNIQUE (bucket)
      )`);
    await q.query(`
      CREATE TABLE trail_checkpoint_leaves (
        checkpoint_seq bigint NOT NULL REFERENCES trail_checkpoints(seq),
        leaf_index integer NOT NULL,
        complaint_id uuid NOT NULL REFERENCES complaints(id),
        event_count integer NOT NULL,
        head_hash char(64) NOT NULL,
        CONSTRAINT pk_trail_checkpoint_leaves PRIMARY KEY (checkpoint_seq, leaf_index)
      )`);
    await q.query(
      `CREATE INDEX ix_trail_leaves_complaint ON trail_checkpoint_leaves (complaint_id, checkpoint_seq DESC)`,
    );
    await q.query(`
      CREATE TABLE trail_checkpoint_heads (
        complaint_id uuid PRIMARY KEY REFERENCES complaints(id),
        event_count integer NOT NULL,
        checkpoint_seq bigint NOT NULL REFERENCES trail_checkpoints(seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE trail_checkpoint_heads`);
    await q.query(`DROP TABLE trail_checkpoint_leaves`);
    await q.query(`DROP TABLE trail_checkpoints`);
  }
}
