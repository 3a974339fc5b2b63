import { DomainError } from '@app/shared';
import { EvidenceType, PHOTO_TYPES } from './evidence-policy';
import { onePhotoAtATime, stripPhotoFile } from './media';
import { stripMp4File } from './mp4-metadata';
import { stripPdfFile } from './pdf-metadata';

/** The photo re-encoded without metadata (one at a time per process); decoding errors → 415. */
async function stripPhoto(from: string, to: string, type: EvidenceType): Promise<void> {
  try {
    await onePhotoAtATime(() => stripPhotoFile(from, to, type));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/pixel limit/i.test(msg)) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        'the photo has too many pixels to be re-encoded without its metadata',
      );
    }
    throw new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      `the photo could not be decoded (${msg.slice(0, 200)})`,
    );
  }
}

/**
 * Writes to `to` the copy of an upload the other party gets: a photo re-encoded without
 * EXIF/XMP/IPTC, a PDF without its document information strings and XMP, an MP4 with its
 * `udta`/`meta` boxes turned into `free` boxes of the same size. Returns false (nothing
 * written) when a PDF or MP4 carries no such metadata: the other party then gets the original.
 * Made from the spooled file, before the transaction (CPU and disk, no locks).
 */
export async function writeOtherPartyCopy(
  from: string,
  to: string,
  type: EvidenceType,
): Promise<boolean> {
  if (PHOTO_TYPES.includes(type)) {
    await stripPhoto(from, to, type);
    return true;
  }
  if (type === 'application/pdf') return (await stripPdfFile(from, to)).written;
  return stripMp4File(from, to);
}
