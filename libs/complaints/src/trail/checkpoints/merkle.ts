import { createHash } from 'node:crypto';

/**
 * RFC 6962 (Certificate Transparency) Merkle tree hashing, §2.1, as RFC 9162 §2.1 restates it:
 *   MTH({})      = SHA-256()
 *   leaf hash    = SHA-256(0x00 ‖ d)
 *   MTH(D[n])    = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])), k the largest power of two < n.
 * Inclusion proofs (audit paths, §2.1.1) and their verification (RFC 9162 §2.1.3.2). No
 * dependency: the verifying command (scripts/trail-verify.ts) runs this same file.
 * Checked against the RFC 6962 test vectors of transparency-dev/merkle (merkle.spec.ts).
 */

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

export const EMPTY_TREE_ROOT = sha256();

export function leafHash(data: Buffer): Buffer {
  return sha256(LEAF, data);
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha256(NODE, left, right);
}

/** The largest power of two smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

/** MTH over leaf hashes (already `leafHash`ed). */
function rootOfHashes(hashes: readonly Buffer[], from: number, to: number): Buffer {
  const n = to - from;
  if (n === 0) return EMPTY_TREE_ROOT;
  if (n === 1) return hashes[from];
  const k = split(n);
  return nodeHash(rootOfHashes(hashes, from, from + k), rootOfHashes(hashes, from + k, to));
}

/** The tree head of the leaves' data. */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  return rootOfHashes(leaves.map(leafHash), 0, leaves.length);
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `index`, from the leaf upwards. */
export function inclusionProof(leaves: readonly Buffer[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`inclusionProof: leaf ${index} outside a tree of ${leaves.length}`);
  }
  const hashes = leaves.map(leafHash);
  const path = (m: number, from: number, to: number): Buffer[] => {
    const n = to - from;
    if (n <= 1) return [];
    const k = split(n);
    return m < k
      ? [...path(m, from, from + k), rootOfHashes(hashes, from + k, to)]
      : [...path(m - k, from + k, to), rootOfHashes(hashes, from, from + k)];
  };
  return path(index, 0, hashes.length);
}

/**
 * The root that an audit path leads to from a leaf hash (RFC 9162 §2.1.3.2), or null when the
 * path cannot belong to a tree of `treeSize` (wrong length, index out of range).
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leaf: Buffer,
  path: readonly Buffer[],
): Buffer | null {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize)) return null;
  if (leafIndex < 0 || leafIndex >= treeSize) return null;
  if (path.some((p) => p.length !== 32)) return null;
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leaf: Buffer,
  path: readonly Buffer[],
  root: Buffer,
): boolean {
  const computed = rootFromInclusionProof(leafIndex, treeSize, leaf, path);
  return computed !== null && root.length === 32 && computed.equals(root);
}
