import type { EntityManager } from 'typeorm';
import { GENESIS_HASH, hashEvent, verifyChain } from './hash-chain';
import type { ChainVerification, TrailEvent } from './hash-chain';

export interface EventActor {
  role: string;
  id: string | null;
}

interface EventRow {
  seq: number;
  type: string;
  actor_role: string;
  actor_id: string | null;
  at: Date;
  data: unknown;
  prev_hash: string;
  hash: string;
}

export interface PendingEvent {
  seq: number;
  type: string;
  actor: EventActor;
  at: string;
  data: unknown;
  prevHash: string;
  hash: string;
}

/**
 * The next link of a ticket's chain. The caller holds the ticket row (FOR UPDATE) so `seq`
 * and `prevHash` cannot race; it stores the event and the new head in the same transaction.
 */
export function nextEvent(
  head: { event_count: number; head_hash: string | null },
  type: string,
  actor: EventActor,
  at: Date,
  data: unknown,
): PendingEvent {
  const seq = head.event_count + 1;
  const prevHash = head.head_hash ?? GENESIS_HASH;
  const content = { seq, type, actor, at: at.toISOString(), data };
  return { ...content, prevHash, hash: hashEvent(prevHash, content) };
}

export async function readTrail(
  db: Pick<EntityManager, 'query'>,
  complaintId: string,
): Promise<TrailEvent[]> {
  const rows: EventRow[] = await db.query(
    `SELECT seq, type, actor_role, actor_id, at, data, prev_hash, hash
       FROM complaint_events WHERE complaint_id = $1 ORDER BY seq`,
    [complaintId],
  );
  return rows.map((r) => ({
    seq: r.seq,
    type: r.type,
    actor: { role: r.actor_role, id: r.actor_id },
    at: r.at.toISOString(),
    data: r.data,
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}

/**
 * Recomputes the chain and compares its end with the head kept on the ticket row, so a
 * removed last event is caught too.
 */
export function verifyTrail(
  events: TrailEvent[],
  head: { event_count: number; head_hash: string | null },
): ChainVerification {
  const result = verifyChain(events);
  if (!result.valid) return result;
  if (events.length !== head.event_count || (events.at(-1)?.hash ?? null) !== head.head_hash) {
    return {
      ...result,
      valid: false,
      firstInvalidSeq: Math.min(events.length, head.event_count) + 1,
    };
  }
  return result;
}
