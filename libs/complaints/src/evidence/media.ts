import sharp from 'sharp';
import { DomainError } from '@app/shared';
import { EVIDENCE_TYPES, EvidenceType } from './evidence-policy';

let photoQueue: Promise<unknown> = Promise.resolve();
/** Runs `work` after every re-encoding started before it has finished (a process-wide queue). */
export function onePhotoAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = photoQueue.then(work, work);
  photoQueue = run.catch(() => undefined);
  return run;
}

/** Bytes file-type needs to tell these formats apart (its documented minimum sample). */
export const SNIFF_BYTES = 4100;

/** Largest photo re-encoded (width × height): a decompression bomb stops here, not in RAM. */
export const MAX_PHOTO_PIXELS = 64_000_000;

// One image at a time per process (onePhotoAtATime), no libvips operation cache, one libvips
// worker thread: each thread holds its own tile buffers (and glibc arena), so two threads cost
// ~10 MB more per photo than one for no gain on a 2-core machine already serving requests.
sharp.cache(false);
sharp.concurrency(1);

type FileTypeModule = typeof import('file-type/core');
let fileType: Promise<FileTypeModule> | undefined;
/** file-type is ESM-only: loaded once, at first use, with a dynamic import. */
function loadFileType(): Promise<FileTypeModule> {
  // The core entry: buffers only (no fs), and resolvable by Jest's require conditions too.
  fileType ??= import('file-type/core');
  return fileType;
}

/** The evidence type of these first bytes, or 415 UNSUPPORTED_MEDIA_TYPE. */
export async function sniffEvidenceType(head: Uint8Array): Promise<EvidenceType> {
  const { fileTypeFromBuffer } = await loadFileType();
  const found = await fileTypeFromBuffer(head);
  const mime = found?.mime as string | undefined;
  if (!mime || !(EVIDENCE_TYPES as readonly string[]).includes(mime)) {
    throw new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      `evidence must be JPEG, PNG, WebP, PDF or MP4 (by its content${mime ? `, this is ${mime}` : ''})`,
      { accepted: [...EVIDENCE_TYPES] },
    );
  }
  return mime as EvidenceType;
}

/**
 * Passes `source` through, after its first SNIFF_BYTES (or all of it, if shorter) were typed:
 * `onType` gets the type before any byte is yielded, so a refused file stops at 4 KiB.
 */
export async function* sniffed(
  source: AsyncIterable<Buffer>,
  onType: (type: EvidenceType) => void,
): AsyncGenerator<Buffer> {
  const head: Buffer[] = [];
  let headBytes = 0;
  let typed = false;
  for await (const chunk of source) {
    if (typed) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    headBytes += chunk.length;
    if (headBytes >= SNIFF_BYTES) {
      const joined = Buffer.concat(head, headBytes);
      onType(await sniffEvidenceType(joined.subarray(0, SNIFF_BYTES)));
      typed = true;
      yield joined;
    }
  }
  if (!typed) {
    const joined = Buffer.concat(head, headBytes);
    onType(await sniffEvidenceType(joined));
    if (joined.length) yield joined;
  }
}

/**
 * A photo without its metadata: re-encoded in the same format with sharp's default of writing no
 * EXIF, XMP, IPTC or ICC comment (GPS, camera model, serial numbers, capture time all go). The
 * EXIF orientation alone is written back (when not 1), instead of rotating the pixels: rotating
 * needs the whole decoded image in memory, while this streams through libvips line by line from
 * file to file (a 19 MP JPEG: ~30 MB above the process's baseline; ~80 MB when rotated).
 * JPEG without optimised Huffman tables, which would keep every DCT coefficient in memory.
 */
export async function stripPhotoFile(from: string, to: string, type: EvidenceType): Promise<void> {
  const options = {
    limitInputPixels: MAX_PHOTO_PIXELS,
    failOn: 'error',
    sequentialRead: true,
  } as const;
  const { orientation } = await sharp(from, options).metadata();
  const img = sharp(from, options);
  const out =
    type === 'image/jpeg'
      ? img.jpeg({ quality: 90, optimiseCoding: false })
      : type === 'image/png'
        ? img.png()
        : img.webp({ quality: 90 });
  if (orientation && orientation > 1) out.withExif({ IFD0: { Orientation: String(orientation) } });
  await out.toFile(to);
}
