import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/** Bytes to overwrite in a copy: `bytes` at `at`, or `length` bytes of `fill` from `at`. */
export type Patch = { at: number; bytes: Buffer } | { at: number; length: number; fill: number };

const patchEnd = (p: Patch) => p.at + ('bytes' in p ? p.bytes.length : p.length);

/**
 * Copies `from` to `to`, overwriting the patched ranges, streamed (one read buffer in memory):
 * the copy has the same length, so offsets into the file (a PDF's xref table, an MP4's chunk
 * offsets) stay valid.
 */
export async function copyWithPatches(from: string, to: string, patches: Patch[]): Promise<void> {
  const sorted = [...patches].sort((a, b) => a.at - b.at);
  let pos = 0;
  async function* patched(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const start = pos;
      const end = pos + chunk.length;
      pos = end;
      const hits = sorted.filter((p) => p.at < end && patchEnd(p) > start);
      if (!hits.length) {
        yield chunk;
        continue;
      }
      const out = Buffer.from(chunk); // a copy: the read buffer is not ours to change
      for (const p of hits) {
        const from = Math.max(p.at, start);
        const until = Math.min(patchEnd(p), end);
        if ('bytes' in p) p.bytes.copy(out, from - start, from - p.at, until - p.at);
        else out.fill(p.fill, from - start, until - start);
      }
      yield out;
    }
  }
  await pipeline(
    createReadStream(from, { highWaterMark: 256 * 1024 }),
    patched,
    createWriteStream(to, { flags: 'wx' }),
  );
}
