import { createHash } from 'node:crypto';
import {
  EMPTY_TREE_ROOT,
  inclusionProof,
  leafHash,
  merkleRoot,
  rootFromInclusionProof,
  verifyInclusion,
} from './merkle';

/*
 * The RFC 6962 test vectors used by transparency-dev/merkle (proof/verify_test.go) and
 * certificate-transparency-go: eight leaves, the tree head of each prefix, and audit paths.
 */
const hex = (s: string) => Buffer.from(s, 'hex');
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** [leaf index (0-based), tree size, audit path]. */
const PROOFS: [number, number, string[]][] = [
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

describe('RFC 6962 Merkle tree', () => {
  it('hashes the empty tree to SHA-256 of nothing', () => {
    expect(EMPTY_TREE_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(merkleRoot([]).equals(EMPTY_TREE_ROOT)).toBe(true);
  });

  it.each(ROOTS.map((root, i) => [i + 1, root]))(
    'gives the test vectors’ root for the first %i leaves (RFC 6962 split for non-powers of two)',
    (n, root) => {
      expect(merkleRoot(LEAVES.slice(0, n as number)).toString('hex')).toBe(root);
    },
  );

  it.each(PROOFS)(
    'builds the test vectors’ audit path of leaf %i in a tree of %i',
    (i, n, path) => {
      const proof = inclusionProof(LEAVES.slice(0, n), i);
      expect(proof.map((p) => p.toString('hex'))).toEqual(path);
      expect(verifyInclusion(i, n, leafHash(LEAVES[i]), proof, hex(ROOTS[n - 1]))).toBe(true);
    },
  );

  it('equals RFC 6962’s recursive definition (MTH and PATH) for every size up to 70', () => {
    // The definitions of RFC 6962 §2.1 and §2.1.1, written as they read.
    const h = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();
    const k = (n: number) => 2 ** Math.floor(Math.log2(n - 1));
    const mth = (d: Buffer[]): Buffer =>
      d.length === 0
        ? h()
        : d.length === 1
          ? h(Buffer.from([0]), d[0])
          : h(Buffer.from([1]), mth(d.slice(0, k(d.length))), mth(d.slice(k(d.length))));
    const path = (m: number, d: Buffer[]): Buffer[] => {
      if (d.length <= 1) return [];
      const s = k(d.length);
      return m < s
        ? [...path(m, d.slice(0, s)), mth(d.slice(s))]
        : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
    };
    const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`));
    for (let n = 0; n <= leaves.length; n++) {
      const d = leaves.slice(0, n);
      expect(merkleRoot(d).equals(mth(d))).toBe(true);
      for (let m = 0; m < n; m++) {
        expect(inclusionProof(d, m).map((p) => p.toString('hex'))).toEqual(
          path(m, d).map((p) => p.toString('hex')),
        );
      }
    }
  });

  it('proves every leaf of every tree up to 33 leaves', () => {
    const leaves = Array.from({ length: 33 }, (_, i) => Buffer.from([i, i * 7]));
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n);
      const root = merkleRoot(tree);
      for (let i = 0; i < n; i++) {
        expect(verifyInclusion(i, n, leafHash(tree[i]), inclusionProof(tree, i), root)).toBe(true);
      }
    }
  });

  describe('refuses a proof that does not lead to the root', () => {
    const [i, n, hexPath] = PROOFS[0];
    const path = hexPath.map(hex);
    const root = hex(ROOTS[n - 1]);
    const leaf = leafHash(LEAVES[i]);
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      c[0] ^= 8;
      return c;
    };
    it.each([
      ['wrong index', () => verifyInclusion(i + 1, n, leaf, path, root)],
      ['tree twice as big', () => verifyInclusion(i, n * 2, leaf, path, root)],
      ['tree half as big', () => verifyInclusion(i, n / 2, leaf, path, root)],
      ['another leaf', () => verifyInclusion(i, n, leafHash(LEAVES[1]), path, root)],
      ['the empty root', () => verifyInclusion(i, n, leaf, path, EMPTY_TREE_ROOT)],
      [
        'a flipped bit in the path',
        () => verifyInclusion(i, n, leaf, [flip(path[0]), ...path.slice(1)], root),
      ],
      ['a component removed', () => verifyInclusion(i, n, leaf, path.slice(0, -1), root)],
      ['a trailing root', () => verifyInclusion(i, n, leaf, [...path, root], root)],
      ['a preceding root', () => verifyInclusion(i, n, leaf, [root, ...path], root)],
      ['index outside the tree', () => verifyInclusion(n, n, leaf, path, root)],
    ])('%s', (_name, probe) => {
      expect(probe()).toBe(false);
    });
    it('a single-leaf tree: the leaf hash is the root and the path is empty', () => {
      expect(rootFromInclusionProof(0, 1, leaf, [])?.equals(leaf)).toBe(true);
      expect(verifyInclusion(0, 1, leaf, [], leaf)).toBe(true);
    });
  });
});
