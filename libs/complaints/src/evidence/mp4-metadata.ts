import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Patch, copyWithPatches } from './patched-copy';

/** Boxes whose children are walked to find metadata (ISO/IEC 14496-12, QuickTime). */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'moof', 'traf', 'edts']);
/**
 * Boxes that carry metadata and nothing a player needs: `udta` (QuickTime user data: `©xyz`
 * location, `©mak`/`©mod` device, …) and `meta` (ISO metadata; Apple's
 * `com.apple.quicktime.location.ISO6709` keys), wherever they sit.
 */
const METADATA = new Set(['udta', 'meta']);
/** The XMP `uuid` box (Adobe XMP specification part 3: BE7ACFCB-97A9-42E8-9C71-999491E3AFAC). */
const XMP_UUID = Buffer.from('be7acfcb97a942e89c71999491e3afac', 'hex');

async function read(fh: FileHandle, at: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, at);
  return buf.subarray(0, bytesRead);
}

/**
 * The patches that turn every metadata box of an MP4 into a `free` box of the same size with
 * zeroed content: the box structure, every size and every chunk offset (`stco`/`co64` point
 * into `mdat`) stay as they were. Reads box headers only (a few bytes per box). A box whose
 * size runs past its parent ends the walk of that level.
 */
export async function mp4MetadataPatches(path: string): Promise<Patch[]> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const patches: Patch[] = [];
    const walk = async (start: number, end: number, depth: number): Promise<void> => {
      let pos = start;
      while (pos + 8 <= end) {
        const head = await read(fh, pos, 32);
        if (head.length < 8) return;
        const size32 = head.readUInt32BE(0);
        const type = head.toString('latin1', 4, 8);
        let header = 8;
        let size = size32;
        if (size32 === 1) {
          if (head.length < 16) return;
          size = Number(head.readBigUInt64BE(8));
          header = 16;
        } else if (size32 === 0) {
          size = end - pos; // to the end of the file (or parent)
        }
        if (size < header || pos + size > end) return;
        const xmp = type === 'uuid' && head.subarray(header, header + 16).equals(XMP_UUID);
        if (METADATA.has(type) || xmp) {
          patches.push({ at: pos + 4, bytes: Buffer.from('free', 'latin1') });
          if (size > header) patches.push({ at: pos + header, length: size - header, fill: 0 });
        } else if (CONTAINERS.has(type) && depth < 8) {
          await walk(pos + header, pos + size, depth + 1);
        }
        pos += size;
      }
    };
    await walk(0, fileSize, 0);
    return patches;
  } finally {
    await fh.close();
  }
}

/** Writes `to` as `from` without its metadata boxes; false (nothing written) when it has none. */
export async function stripMp4File(from: string, to: string): Promise<boolean> {
  const patches = await mp4MetadataPatches(from);
  if (!patches.length) return false;
  await copyWithPatches(from, to, patches);
  return true;
}
