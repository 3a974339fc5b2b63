import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/**
 * The tamper-evident trail of DESIGN.md: every event carries
 * `hash = sha256(prevHash ‖ canonical(event))`, where ‖ is string concatenation of the previous
 * event's hash (64 lowercase hex characters; GENESIS_HASH for seq 1) and the canonical JSON of
 * the event's own fields `{ seq, type, actor: { role, id }, at, data }`. The UTF-8 bytes of that
 * string are hashed; the result is written as lowercase hex.
 */

export const GENESIS_HASH = '0'.repeat(64);

const HEX_SHA256 = /^[0-9a-f]{64}$/;

export interface TrailActor {
  /** consumer | merchant | regulator | admin | system. */
  role: string;
  /** Who exactly (consumer's payer id, staff or officer `sub`, worker name); null if none. */
  id: string | null;
}

/** What is hashed. `at` is hashed as given: always write it with Date#toISOString(). */
export interface TrailEventContent {
  seq: number;
  type: string;
  actor: TrailActor;
  at: string;
  /** Any JSON value (see canonicalJson for what is accepted). */
  data: unknown;
}

export interface TrailEvent extends TrailEventContent {
  prevHash: string;
  hash: string;
}

export function hashEvent(prevHash: string, event: TrailEventContent): string {
  if (!HEX_SHA256.test(prevHash)) {
    throw new TypeError(`hashEvent: prevHash must be 64 lowercase hex characters`);
  }
  // Only the event's own fields, whatever else the caller's object carries (its hash, a row id).
  const { seq, type, actor, at, data } = event;
  const canonical = canonicalJson({
    seq,
    type,
    actor: { role: actor.role, id: actor.id },
    at,
    data,
  });
  return createHash('sha256')
    .update(prevHash + canonical, 'utf8')
    .digest('hex');
}

export interface ChainVerification {
  valid: boolean;
  length: number;
  /** 1-based position (= the seq it should have) of the first event that does not verify. */
  firstInvalidSeq?: number;
  /** When valid: hash of the last event (GENESIS_HASH when empty), to compare with an anchor. */
  headHash?: string;
}

/**
 * Checks, in order, for each event: seq is its position (1..n, so a deleted or reordered event
 * shows), prevHash is the previous event's hash (GENESIS_HASH first), and hash recomputes.
 *
 * What a chain alone cannot show: events cut off at the end, or the whole chain rebuilt by
 * someone able to rewrite every row. Compare `length`/`headHash` with values kept elsewhere
 * (e.g. the ticket row's last seq and hash) to catch the first.
 */
export function verifyChain(events: readonly TrailEvent[]): ChainVerification {
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < events.length; i += 1) {
    const event = events[i];
    const position = i + 1;
    let ok = event.seq === position && event.prevHash === prevHash;
    if (ok) {
      try {
        ok = hashEvent(prevHash, event) === event.hash;
      } catch {
        ok = false; // content that cannot be canonicalised cannot have been hashed by us
      }
    }
    if (!ok) {
      return { valid: false, length: events.length, firstInvalidSeq: position };
    }
    prevHash = event.hash;
  }
  return { valid: true, length: events.length, headHash: prevHash };
}
