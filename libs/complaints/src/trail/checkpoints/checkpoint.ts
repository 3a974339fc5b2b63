import { createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { verifyChain } from '../hash-chain';
import type { TrailEvent } from '../hash-chain';
import { leafHash, rootFromInclusionProof } from './merkle';

/**
 * Signed trail checkpoints (API.md "Checkpoints"): the worker commits the head hashes of the
 * tickets changed since the last checkpoint into an RFC 6962 tree and signs, with Ed25519, the
 * UTF-8 JSON text of `{ seq, at, root, size, prevRoot }` (keys in that order, hashes as hex).
 * This file has no database or framework import: scripts/trail-verify.ts runs it as it is.
 */

export interface CheckpointBody {
  seq: number;
  at: string;
  /** Merkle tree head (hex). */
  root: string;
  /** Number of leaves (tickets). */
  size: number;
  /** The previous checkpoint's root, null for the first. */
  prevRoot: string | null;
}

/** A checkpoint as GET /v1/trail/checkpoints serves it, and as a regulator keeps it. */
export interface SignedCheckpoint extends CheckpointBody {
  /** The exact text that was signed. */
  signed: string;
  /** Ed25519 signature of `signed` (UTF-8), base64. */
  signature: string;
  /** The signing key's public half (SPKI PEM). */
  publicKey: string;
}

/** The proof of GET /v1/complaints/:id/events/proof. */
export interface TrailProof {
  headHash: string;
  /** How many events the ticket had when its head was checkpointed (headHash = the hash of event #eventCount). */
  eventCount: number;
  checkpoint: SignedCheckpoint;
  proof: { leafIndex: number; treeSize: number; path: string[] };
}

/** The signed text: JSON with the keys in the contract's order (JSON.stringify keeps insertion order). */
export function checkpointText(b: CheckpointBody): string {
  return JSON.stringify({
    seq: b.seq,
    at: b.at,
    root: b.root,
    size: b.size,
    prevRoot: b.prevRoot,
  });
}

export function publicKeyPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

export function signCheckpoint(b: CheckpointBody, privateKey: KeyObject): SignedCheckpoint {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('checkpoints are signed with an Ed25519 key');
  }
  const signed = checkpointText(b);
  // Ed25519 hashes internally: the algorithm argument is null (node:crypto).
  const signature = sign(null, Buffer.from(signed, 'utf8'), privateKey).toString('base64');
  return { ...b, signed, signature, publicKey: publicKeyPem(privateKey) };
}

/** The leaf of a ticket: its head hash's 32 bytes. */
export function headLeaf(headHash: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(headHash)) throw new TypeError(`not a head hash: ${headHash}`);
  return Buffer.from(headHash, 'hex');
}

export interface Check {
  name: 'signature' | 'chain' | 'head' | 'proof';
  ok: boolean;
  detail: string;
}

/**
 * Verifies a ticket against a checkpoint kept outside Hejie, trusting nothing the server says
 * but the events and the audit path, which are checked:
 *  1. signature — the saved checkpoint's `signed` text verifies with the trusted public key
 *     (the one pinned by the verifier, else the one in the saved file), and its fields are the
 *     saved ones;
 *  2. chain     — the events form a valid hash chain (seq, prevHash, hash recomputed);
 *  3. head      — the event #eventCount of that chain has the checkpointed head hash;
 *  4. proof     — the audit path leads from that head (RFC 6962 leaf) to the signed root, for
 *     the signed tree size.
 */
export function verifyAgainstCheckpoint(input: {
  events: readonly TrailEvent[];
  proof: TrailProof;
  saved: SignedCheckpoint;
  trustedPublicKey?: string;
}): { valid: boolean; checks: Check[] } {
  const { events, proof, saved } = input;
  const checks: Check[] = [];

  let body: CheckpointBody | null = null;
  try {
    const key = createPublicKey(input.trustedPublicKey ?? saved.publicKey);
    const sigOk = verify(
      null,
      Buffer.from(saved.signed, 'utf8'),
      key,
      Buffer.from(saved.signature, 'base64'),
    );
    const parsed = JSON.parse(saved.signed) as CheckpointBody;
    const same =
      checkpointText(parsed) === saved.signed &&
      parsed.seq === saved.seq &&
      parsed.root === saved.root &&
      parsed.size === saved.size;
    if (sigOk && same) body = parsed;
    checks.push({
      name: 'signature',
      ok: sigOk && same,
      detail: sigOk
        ? same
          ? `checkpoint #${parsed.seq} of ${parsed.at} signed by the trusted key`
          : 'the saved fields differ from the signed text'
        : 'the signature does not verify',
    });
  } catch (e) {
    checks.push({ name: 'signature', ok: false, detail: `unreadable checkpoint: ${String(e)}` });
  }

  const chain = verifyChain(events);
  checks.push({
    name: 'chain',
    ok: chain.valid,
    detail: chain.valid
      ? `${chain.length} events chain from genesis`
      : `event ${chain.firstInvalidSeq} breaks the chain`,
  });

  const at = events[proof.eventCount - 1];
  const headOk = chain.valid && at !== undefined && at.hash === proof.headHash;
  checks.push({
    name: 'head',
    ok: headOk,
    detail: headOk
      ? `event #${proof.eventCount} has the checkpointed head ${proof.headHash}`
      : at
        ? `event #${proof.eventCount} has hash ${at.hash}, the checkpoint committed ${proof.headHash}`
        : `the trail has no event #${proof.eventCount}`,
  });

  let proofOk = false;
  let detail = 'no trusted checkpoint to prove against';
  if (body) {
    try {
      const root = rootFromInclusionProof(
        proof.proof.leafIndex,
        proof.proof.treeSize,
        leafHash(headLeaf(proof.headHash)),
        proof.proof.path.map((p) => Buffer.from(p, 'hex')),
      );
      proofOk =
        proof.checkpoint.seq === body.seq &&
        proof.proof.treeSize === body.size &&
        root !== null &&
        root.toString('hex') === body.root;
      detail = proofOk
        ? `leaf ${proof.proof.leafIndex} of ${body.size} leads to the signed root ${body.root}`
        : proof.checkpoint.seq !== body.seq
          ? `the proof is for checkpoint #${proof.checkpoint.seq}, not the saved #${body.seq}`
          : `the audit path leads to ${root?.toString('hex') ?? 'nothing'}, not the signed root ${body.root}`;
    } catch (e) {
      detail = `malformed proof: ${String(e)}`;
    }
  }
  checks.push({ name: 'proof', ok: proofOk, detail });
  return { valid: checks.every((c) => c.ok), checks };
}
