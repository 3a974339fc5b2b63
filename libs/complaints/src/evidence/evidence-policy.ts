import type { Actor } from '@app/shared';
import { TERMINAL_STATUSES } from '../vocabulary';

/**
 * Who an upload belongs to. Every officer of the office (and an admin acting for it) is one
 * party, "the office"; the consumer and the merchant's staff are the other two. The count limit
 * (ATTACHMENT_MAX_COUNT) is per party per ticket, and "the other party" of a photo is anyone
 * who is not its uploader's party.
 */
export type EvidenceParty = 'consumer' | 'merchant' | 'office';

export function partyOf(actor: Pick<Actor, 'role'>): EvidenceParty {
  switch (actor.role) {
    case 'consumer':
      return 'consumer';
    case 'merchant':
      return 'merchant';
    case 'regulator':
    case 'admin':
      return 'office';
  }
}

/**
 * Evidence may be added while the ticket is open, and during an appeal (the consumer brings new
 * facts to the review); a closed ticket's file is final. Written as strings so the rule holds
 * whether or not this build's vocabulary has `appealed` (and `settling`) yet.
 */
export function mayAttach(status: string): boolean {
  if (status === 'appealed') return true;
  return !(TERMINAL_STATUSES as readonly string[]).includes(status);
}

/**
 * The stored original of a photo, PDF or MP4 (with its metadata: GPS, device, author) goes to
 * its uploader's party and to the office (regulators, admins); the other party only gets the
 * copy without metadata.
 */
export function mayFetchOriginal(actor: Pick<Actor, 'role'>, uploader: EvidenceParty): boolean {
  return partyOf(actor) === 'office' || partyOf(actor) === uploader;
}

/**
 * The types evidence may have, decided from the bytes, each with the extension of an upload that
 * came without a file name. Photos get a stripped derivative.
 */
const EXTENSIONS = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'video/mp4': 'mp4',
} as const;
export type EvidenceType = keyof typeof EXTENSIONS;
export const EVIDENCE_TYPES = Object.keys(EXTENSIONS) as readonly EvidenceType[];
export const PHOTO_TYPES: readonly EvidenceType[] = ['image/jpeg', 'image/png', 'image/webp'];

/** RFC 6266 Content-Disposition for a download: an ASCII fallback and the UTF-8 name (RFC 8187). */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'attachment';
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** A client's file name as we keep it: no path, no control characters, at most 200 characters. */
export function cleanFilename(name: string | undefined, type: EvidenceType): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 200);
  return clean || `attachment.${EXTENSIONS[type]}`;
}
