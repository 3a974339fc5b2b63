/**
 * npm run trail:verify -- <ticket id> <checkpoint file>
 *
 * Verifies one ticket's trail against a checkpoint saved outside Hejie (one item of
 * GET /v1/trail/checkpoints, as JSON), trusting nothing the server computes: it fetches the
 * ticket's events and its audit path to that checkpoint, then checks here, with this
 * repository's own code (no server call does the checking):
 *   signature — the saved checkpoint's signed text verifies with its Ed25519 key (or the key
 *               pinned in HEJIE_TRAIL_PUBLIC_KEY, a PEM file path: pin it!);
 *   chain     — the events hash-chain from genesis;
 *   head      — event #eventCount is the head hash the checkpoint committed;
 *   proof     — the RFC 6962 audit path leads from that head to the signed root.
 * Environment: HEJIE_URL (default http://127.0.0.1:3000), HEJIE_TOKEN (a bearer token of
 * someone who may see the ticket: the consumer, the office, an admin).
 * Exit code 0 when every check holds, 1 when one fails, 2 on a usage or network error.
 */
import { readFileSync } from 'node:fs';
import { verifyAgainstCheckpoint } from '../libs/complaints/src/trail/checkpoints/checkpoint';
import type {
  Check,
  SignedCheckpoint,
  TrailProof,
} from '../libs/complaints/src/trail/checkpoints/checkpoint';
import type { TrailEvent } from '../libs/complaints/src/trail/hash-chain';

export interface TrailVerifyOptions {
  url: string;
  token?: string;
  ticketId: string;
  checkpoint: SignedCheckpoint;
  trustedPublicKey?: string;
}

export async function trailVerify(
  o: TrailVerifyOptions,
): Promise<{ valid: boolean; checks: Check[] }> {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(new URL(path, o.url), {
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
    });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    // Parsed here (not res.json()): plain objects of this realm, as canonicalJson requires.
    return JSON.parse(await res.text()) as T;
  };
  const id = encodeURIComponent(o.ticketId);
  const events = await get<{ items: TrailEvent[] }>(`/v1/complaints/${id}/events`);
  const proof = await get<TrailProof>(
    `/v1/complaints/${id}/events/proof?checkpoint=${o.checkpoint.seq}`,
  );
  return verifyAgainstCheckpoint({
    events: events.items,
    proof,
    saved: o.checkpoint,
    trustedPublicKey: o.trustedPublicKey,
  });
}

async function main(argv: string[]): Promise<number> {
  const [ticketId, file] = argv;
  if (!ticketId || !file) {
    process.stderr.write('usage: npm run trail:verify -- <ticket id> <checkpoint file>\n');
    return 2;
  }
  const checkpoint = JSON.parse(readFileSync(file, 'utf8')) as SignedCheckpoint;
  const pinned = process.env.HEJIE_TRAIL_PUBLIC_KEY;
  const result = await trailVerify({
    url: process.env.HEJIE_URL ?? 'http://127.0.0.1:3000',
    token: process.env.HEJIE_TOKEN,
    ticketId,
    checkpoint,
    trustedPublicKey: pinned ? readFileSync(pinned, 'utf8') : undefined,
  });
  for (const c of result.checks) {
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(9)} ${c.detail}\n`);
  }
  process.stdout.write(
    result.valid
      ? `VALID: ticket ${ticketId} matches checkpoint #${checkpoint.seq}\n`
      : `INVALID: ticket ${ticketId} does not match checkpoint #${checkpoint.seq}\n`,
  );
  return result.valid ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`trail:verify: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
