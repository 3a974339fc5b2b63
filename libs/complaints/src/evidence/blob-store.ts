import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { EntityManager } from 'typeorm';
import { DomainError } from '@app/shared';

/** What a store returns for a file it has written. */
export interface StoredBlob {
  id: string;
  size: number;
  /** Lowercase hex sha256 of exactly the bytes stored. */
  sha256: string;
}

/**
 * Where evidence bytes live. `put` streams the source in (hashing as it goes) within the
 * caller's transaction, so a refused upload leaves nothing behind; `get` streams them out. An
 * object-store implementation would write the object first and delete it when the transaction
 * rolls back (or let a sweep collect objects no row references).
 */
export interface BlobStore {
  put(
    tx: EntityManager,
    source: AsyncIterable<Buffer | Uint8Array>,
    opts?: { maxBytes?: number },
  ): Promise<StoredBlob>;
  /** The bytes; pass `tx` to read a blob written in that (uncommitted) transaction. */
  get(id: string, tx?: Pick<EntityManager, 'query'>): Readable;
  delete(tx: EntityManager, id: string): Promise<void>;
}

export const BLOB_STORE = Symbol('BLOB_STORE');

/** Bytes per row of attachment_chunks. */
export const CHUNK_BYTES = 256 * 1024;
/**
 * Chunks fetched per round trip when reading: one (PostgreSQL sends bytea as hex text, so each
 * chunk in flight costs about three times its size; ten parallel downloads stay small).
 */
const READ_BATCH = 1;

/**
 * The default store: PostgreSQL, `attachment_blobs` + `attachment_chunks (blob_id, n, data)`,
 * written one 256 KiB chunk at a time as the upload arrives. At most one chunk (plus what the
 * socket hands over at once) is in memory per upload.
 */
export class PgBlobStore implements BlobStore {
  constructor(private readonly db: Pick<EntityManager, 'query'>) {}

  async put(
    tx: EntityManager,
    source: AsyncIterable<Buffer | Uint8Array>,
    opts: { maxBytes?: number } = {},
  ): Promise<StoredBlob> {
    const id = randomUUID();
    const hash = createHash('sha256');
    // The blob row first (the chunks reference it); size and hash once the last byte is in.
    await tx.query(`INSERT INTO attachment_blobs (id, size, sha256) VALUES ($1, 0, $2)`, [
      id,
      '0'.repeat(64),
    ]);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let size = 0;
    let n = 0;
    const flush = async (all: boolean) => {
      while (pendingBytes >= CHUNK_BYTES || (all && pendingBytes > 0)) {
        const joined = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
        const take = Math.min(CHUNK_BYTES, joined.length);
        await tx.query(`INSERT INTO attachment_chunks (blob_id, n, data) VALUES ($1, $2, $3)`, [
          id,
          n++,
          joined.subarray(0, take),
        ]);
        const rest = joined.subarray(take);
        pending = rest.length ? [Buffer.from(rest)] : [];
        pendingBytes = rest.length;
      }
    };
    for await (const part of source) {
      const b = Buffer.isBuffer(part)
        ? part
        : Buffer.from(part.buffer, part.byteOffset, part.length);
      size += b.length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes) {
        throw new DomainError('PAYLOAD_TOO_LARGE', `the file exceeds ${opts.maxBytes} bytes`, {
          maxBytes: opts.maxBytes,
        });
      }
      hash.update(b);
      pending.push(b);
      pendingBytes += b.length;
      if (pendingBytes >= CHUNK_BYTES) await flush(false);
    }
    await flush(true);
    const sha256 = hash.digest('hex');
    await tx.query(`UPDATE attachment_blobs SET size = $2, sha256 = $3 WHERE id = $1`, [
      id,
      size,
      sha256,
    ]);
    return { id, size, sha256 };
  }

  get(id: string, tx?: Pick<EntityManager, 'query'>): Readable {
    const db = tx ?? this.db;
    async function* chunks(): AsyncGenerator<Buffer> {
      let next = 0;
      for (;;) {
        const rows: { n: number; data: Buffer }[] = await db.query(
          `SELECT n, data FROM attachment_chunks WHERE blob_id = $1 AND n >= $2 ORDER BY n LIMIT $3`,
          [id, next, READ_BATCH],
        );
        for (const r of rows) {
          if (r.n !== next) throw new Error(`blob ${id}: chunk ${next} is missing`);
          next++;
          yield r.data;
        }
        if (rows.length < READ_BATCH) return;
      }
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK_BYTES });
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`DELETE FROM attachment_blobs WHERE id = $1`, [id]);
  }
}
