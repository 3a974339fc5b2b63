import type { EntityManager } from 'typeorm';

/**
 * A regulator's reads of a ticket are part of its trail, but one officer refreshing a page must
 * not grow the trail (and the outbox, the stream, the rollups) by one event per request: one
 * `regulator_viewed` per officer per ticket per REGULATOR_VIEW_WINDOW (default 1h).
 *
 * Called in the transaction that would append the event: takes the ticket's row lock first
 * (the same lock every transition takes), then looks for this officer's latest view since
 * `since`. Two parallel reads serialise on the lock; the second one's query (a new statement
 * under READ COMMITTED) sees the first one's committed event and records nothing.
 * A missing ticket answers false, so the caller's own NOT_FOUND path runs unchanged.
 */
export async function viewedSince(
  tx: EntityManager,
  complaintId: string,
  officerSub: string,
  since: Date,
): Promise<boolean> {
  const locked: unknown[] = await tx.query('SELECT id FROM complaints WHERE id = $1 FOR UPDATE', [
    complaintId,
  ]);
  if (!locked.length) return false;
  const rows: unknown[] = await tx.query(
    `SELECT 1 FROM complaint_events
      WHERE complaint_id = $1 AND type = 'regulator_viewed' AND actor_role = 'regulator'
        AND actor_id = $2 AND at > $3
      LIMIT 1`,
    [complaintId, officerSub, since],
  );
  return rows.length > 0;
}
