import type { KeyObject } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { headLeaf, signCheckpoint } from './checkpoint';
import type { SignedCheckpoint, TrailProof } from './checkpoint';
import { buildTree, merkleRoot } from './merkle';

/** pg_advisory_xact_lock key of checkpoint creation ("hejieckp"). */
const CHECKPOINT_LOCK = 0x68656a6965636b70n;

interface CheckpointRow {
  seq: string;
  at: Date;
  root: string;
  size: number;
  prev_root: string | null;
  signed: string;
  signature: string;
  public_key: string;
}

const toCheckpoint = (r: CheckpointRow): SignedCheckpoint => ({
  seq: Number(r.seq),
  at: r.at.toISOString(),
  root: r.root,
  size: r.size,
  prevRoot: r.prev_root,
  signed: r.signed,
  signature: r.signature,
  publicKey: r.public_key,
});

/** The time bucket of `now`: one checkpoint per CHECKPOINT_INTERVAL, whichever worker makes it. */
export const checkpointBucket = (now: Date, intervalMs: number): number =>
  Math.floor(now.getTime() / intervalMs);

/**
 * Makes the checkpoint of `now`'s interval unless one exists: under a transaction-scoped
 * advisory lock (so two workers queue up; the second finds the bucket taken), the tickets whose
 * event count differs from their last checkpointed one (or that were never checkpointed), in id
 * order, become the leaves (their head hashes). The tree head, signature, leaves and the new
 * per-ticket marks are written in the same transaction. A checkpoint is made even with no
 * changed ticket (size 0, the empty tree's root): the chain of prevRoots shows no interval was
 * skipped. Returns null when this interval already has its checkpoint.
 */
export async function createCheckpoint(
  db: DataSource,
  privateKey: KeyObject,
  now: Date,
  intervalMs: number,
): Promise<SignedCheckpoint | null> {
  const bucket = checkpointBucket(now, intervalMs);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CHECKPOINT_LOCK.toString()]);
    const [taken] = await tx.query('SELECT 1 FROM trail_checkpoints WHERE bucket = $1', [bucket]);
    if (taken) return null;
    const [last]: { seq: string; root: string }[] = await tx.query(
      'SELECT seq, root FROM trail_checkpoints ORDER BY seq DESC LIMIT 1',
    );
    const changed: { id: string; head_hash: string; event_count: number }[] = await tx.query(
      `SELECT c.id, c.head_hash, c.event_count
         FROM complaints c LEFT JOIN trail_checkpoint_heads h ON h.complaint_id = c.id
        WHERE c.head_hash IS NOT NULL AND (h.event_count IS NULL OR h.event_count <> c.event_count)
        ORDER BY c.id`,
    );
    const root = merkleRoot(changed.map((c) => headLeaf(c.head_hash))).toString('hex');
    const seq = last ? Number(last.seq) + 1 : 1;
    const checkpoint = signCheckpoint(
      { seq, at: now.toISOString(), root, size: changed.length, prevRoot: last?.root ?? null },
      privateKey,
    );
    await tx.query(
      `INSERT INTO trail_checkpoints (seq, bucket, at, root, size, prev_root, signed, signature, public_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        seq,
        bucket,
        now,
        root,
        changed.length,
        checkpoint.prevRoot,
        checkpoint.signed,
        checkpoint.signature,
        checkpoint.publicKey,
      ],
    );
    if (changed.length) await writeLeaves(tx, seq, changed);
    return checkpoint;
  });
}

async function writeLeaves(
  tx: EntityManager,
  seq: number,
  changed: readonly { id: string; head_hash: string; event_count: number }[],
): Promise<void> {
  const ids = changed.map((c) => c.id);
  const counts = changed.map((c) => c.event_count);
  await tx.query(
    `INSERT INTO trail_checkpoint_leaves (checkpoint_seq, leaf_index, complaint_id, event_count, head_hash)
     SELECT $1, u.ord - 1, u.id, u.n, u.h
       FROM unnest($2::uuid[], $3::int[], $4::text[]) WITH ORDINALITY AS u(id, n, h, ord)`,
    [seq, ids, counts, changed.map((c) => c.head_hash)],
  );
  await tx.query(
    `INSERT INTO trail_checkpoint_heads (complaint_id, event_count, checkpoint_seq)
     SELECT u.id, u.n, $1 FROM unnest($2::uuid[], $3::int[]) AS u(id, n)
     ON CONFLICT (complaint_id) DO UPDATE SET event_count = EXCLUDED.event_count,
                                             checkpoint_seq = EXCLUDED.checkpoint_seq`,
    [seq, ids, counts],
  );
}

/** Checkpoints after `after` (a seq), oldest first. */
export async function listCheckpoints(
  db: Pick<EntityManager, 'query'>,
  after: number,
  limit: number,
): Promise<SignedCheckpoint[]> {
  const rows: CheckpointRow[] = await db.query(
    'SELECT * FROM trail_checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2',
    [after, limit],
  );
  return rows.map(toCheckpoint);
}

/**
 * Checkpoint trees kept in memory (most recently used first out last), each level packed into
 * one Buffer (32 bytes a node): a proof is then O(log n) instead of reading and hashing every
 * leaf again. Safe to cache: a checkpoint's leaves are written once, with it. ~64 bytes a leaf.
 */
export class TreeCache {
  private readonly trees = new Map<number, Buffer[]>();

  constructor(private readonly max = 2) {}

  get(seq: number): Buffer[] | undefined {
    const tree = this.trees.get(seq);
    if (tree) {
      this.trees.delete(seq);
      this.trees.set(seq, tree);
    }
    return tree;
  }

  set(seq: number, levels: Buffer[]): void {
    this.trees.set(seq, levels);
    while (this.trees.size > this.max) this.trees.delete(this.trees.keys().next().value!);
  }
}

/** The audit path of leaf `index` from packed levels (see TreeCache), as merkle.ts auditPath. */
function packedPath(levels: readonly Buffer[], index: number): Buffer[] {
  if (index < 0 || index * 32 >= levels[0].length) {
    throw new RangeError(`leaf ${index} outside a tree of ${levels[0].length / 32}`);
  }
  const path: Buffer[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const sibling = i ^ 1;
    if (sibling * 32 < levels[l].length)
      path.push(levels[l].subarray(sibling * 32, sibling * 32 + 32));
    i >>= 1;
  }
  return path;
}

/**
 * The audit path of a ticket's head in checkpoint `seq` (default: the latest checkpoint that
 * covers the ticket), from the stored leaves; null when none covers it.
 */
export async function proofFor(
  db: Pick<EntityManager, 'query'>,
  complaintId: string,
  seq?: number,
  cache: TreeCache = new TreeCache(0),
): Promise<TrailProof | null> {
  const [leaf]: {
    checkpoint_seq: string;
    leaf_index: number;
    event_count: number;
    head_hash: string;
  }[] = await db.query(
    `SELECT checkpoint_seq, leaf_index, event_count, head_hash FROM trail_checkpoint_leaves
        WHERE complaint_id = $1 ${seq === undefined ? '' : 'AND checkpoint_seq = $2'}
        ORDER BY checkpoint_seq DESC LIMIT 1`,
    seq === undefined ? [complaintId] : [complaintId, seq],
  );
  if (!leaf) return null;
  const [row]: CheckpointRow[] = await db.query('SELECT * FROM trail_checkpoints WHERE seq = $1', [
    leaf.checkpoint_seq,
  ]);
  const checkpoint = toCheckpoint(row);
  let levels = cache.get(checkpoint.seq);
  if (!levels) {
    const heads: { head_hash: string }[] = await db.query(
      'SELECT head_hash FROM trail_checkpoint_leaves WHERE checkpoint_seq = $1 ORDER BY leaf_index',
      [leaf.checkpoint_seq],
    );
    levels = buildTree(heads.map((h) => headLeaf(h.head_hash))).map((l) => Buffer.concat(l));
    cache.set(checkpoint.seq, levels);
  }
  const path = packedPath(levels, leaf.leaf_index);
  return {
    headHash: leaf.head_hash,
    eventCount: leaf.event_count,
    checkpoint,
    proof: {
      leafIndex: leaf.leaf_index,
      treeSize: levels[0].length / 32,
      path: path.map((p) => p.toString('hex')),
    },
  };
}
