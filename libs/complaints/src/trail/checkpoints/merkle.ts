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

/**
 * The tree's levels, bottom-up: level 0 the leaf hashes, each next level the pairs of the one
 * below hashed together, a last node without a right sibling carried up unchanged. This is
 * RFC 6962's MTH (left subtree = the largest power of two below n) computed iteratively: the
 * carried node is exactly the right subtree that is not a power of two. n - 1 node hashes in all.
 */
export function buildTree(leaves: readonly Buffer[]): Buffer[][] {
  const levels: Buffer[][] = [leaves.map(leafHash)];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const up: Buffer[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i], below[i + 1]));
    if (below.length % 2 === 1) up.push(below[below.length - 1]);
    levels.push(up);
  }
  return levels;
}

export function rootOfTree(levels: readonly Buffer[][]): Buffer {
  const top = levels[levels.length - 1];
  return top.length ? top[0] : EMPTY_TREE_ROOT;
}

/** The tree head of the leaves' data. */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  return rootOfTree(buildTree(leaves));
}

/**
 * PATH(m, D[n]) of RFC 6962 §2.1.1 from the levels: at each level the sibling of the node on
 * the way up, none where the node is carried up alone. From the leaf upwards.
 */
export function auditPath(levels: readonly Buffer[][], index: number): Buffer[] {
  const n = levels[0].length;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`inclusionProof: leaf ${index} outside a tree of ${n}`);
  }
  const path: Buffer[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const sibling = i ^ 1;
    if (sibling < levels[l].length) path.push(levels[l][sibling]);
    i >>= 1;
  }
  return path;
}

export function inclusionProof(leaves: readonly Buffer[], index: number): Buffer[] {
  return auditPath(buildTree(leaves), index);
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
