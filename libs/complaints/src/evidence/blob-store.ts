import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { DataSource, EntityManager } from 'typeorm';
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
/** The 19-byte header of COPY's binary format (signature, flags, header extension length). */
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The value of the single bytea column of the single row of a `COPY … TO STDOUT (FORMAT
 * binary)` output (PostgreSQL's documented layout: signature, flags, extension, then per row a
 * field count and length-prefixed values, then -1), or null when the output has no row.
 */
export function copyBinaryValue(out: Buffer): Buffer | null {
  if (out.length < 21 || !out.subarray(0, 11).equals(COPY_SIGNATURE)) {
    throw new Error('not COPY binary output');
  }
  let at = 15;
  at += 4 + out.readUInt32BE(at); // header extension
  const fields = out.readInt16BE(at);
  if (fields === -1) return null;
  if (fields !== 1) throw new Error(`COPY binary: ${fields} fields, expected 1`);
  const len = out.readInt32BE(at + 2);
  if (len < 0) throw new Error('COPY binary: NULL chunk');
  return out.subarray(at + 6, at + 6 + len);
}

/**
 * The default store: PostgreSQL, `attachment_blobs` + `attachment_chunks (blob_id, n, data)`,
 * written one 256 KiB chunk at a time as the upload arrives (a source read in chunk-sized
 * buffers is written without joining), and read one chunk per round trip. Reads use
 * `COPY (SELECT data …) TO STDOUT (FORMAT binary)`: the bytes arrive as stored, not as the hex
 * text a `SELECT` of a bytea sends (node-postgres has no binary results for bytea), which cost
 * about three times the chunk in V8 strings (in large-object space, freed only by a full GC).
 * The connection goes back to the pool between chunks, so a slow client holds none.
 */
export class PgBlobStore implements BlobStore {
  constructor(private readonly db: DataSource) {}

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
    if (!UUID.test(id)) throw new Error(`blob id ${id} is not a uuid`);
    const chunk = (n: number) => (tx ? this.chunkInTx(tx, id, n) : this.copyChunk(id, n));
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let n = 0; ; n++) {
        const data = await chunk(n);
        if (!data) return;
        yield data;
        // put() writes full chunks but the last: a short one ends the blob.
        if (data.length < CHUNK_BYTES) return;
      }
    }
    // One chunk read ahead of the socket at most.
    return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK_BYTES });
  }

  /** Chunk `n` of a blob (null past the last), as raw bytes through COPY binary. */
  private async copyChunk(id: string, n: number): Promise<Buffer | null> {
    const driver = this.db.driver as unknown as {
      obtainMasterConnection(): Promise<[PoolClient, (err?: Error) => void]>;
    };
    const [client, release] = await driver.obtainMasterConnection();
    let out: Buffer;
    try {
      // COPY takes no parameters: the id was checked to be a uuid, n is an integer.
      const stream = client.query(
        copyTo(
          `COPY (SELECT data FROM attachment_chunks WHERE blob_id = '${id}' AND n = ${Math.trunc(n)}) TO STDOUT (FORMAT binary)`,
        ),
      );
      const parts: Buffer[] = [];
      for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
      out = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    } catch (e) {
      release(e as Error); // a connection in an unknown state is not reused
      throw e;
    }
    release();
    return copyBinaryValue(out);
  }

  /** Inside an open transaction (a blob it wrote and has not committed): a plain SELECT. */
  private async chunkInTx(
    tx: Pick<EntityManager, 'query'>,
    id: string,
    n: number,
  ): Promise<Buffer | null> {
    const rows: { data: Buffer }[] = await tx.query(
      `SELECT data FROM attachment_chunks WHERE blob_id = $1 AND n = $2`,
      [id, n],
    );
    return rows[0]?.data ?? null;
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`DELETE FROM attachment_blobs WHERE id = $1`, [id]);
  }
}
