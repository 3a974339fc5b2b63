import type { Readable } from 'node:stream';
import type { EvidenceParty } from './evidence-policy';

export interface AttachmentView {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  /** sha256 (hex) of the original, as on the trail's attachment_added event. */
  sha256: string;
  uploadedBy: { role: string };
  at: string;
  note: string | null;
  /**
   * The copy served to the other party has no location/device metadata (photos re-encoded;
   * PDFs without their Info strings and XMP; MP4s without `udta`/`meta` boxes).
   */
  metadataStripped: boolean;
}

export interface AttachmentRow {
  id: string;
  complaint_id: string;
  party: EvidenceParty;
  uploaded_by_role: string;
  uploaded_by: string;
  filename: string;
  content_type: string;
  size: string;
  sha256: string;
  blob_id: string;
  stripped_blob_id: string | null;
  stripped_size: string | null;
  stripped_sha256: string | null;
  note: string | null;
  event_seq: number;
  created_at: Date;
}

/** A download: the bytes to stream and the headers that describe them. */
export interface AttachmentDownload {
  stream: Readable;
  contentType: string;
  filename: string;
  size: number;
  sha256: string;
  original: boolean;
}

export function viewOf(r: AttachmentRow): AttachmentView {
  return {
    id: r.id,
    filename: r.filename,
    contentType: r.content_type,
    size: Number(r.size),
    sha256: r.sha256,
    uploadedBy: { role: r.uploaded_by_role },
    at: r.created_at.toISOString(),
    note: r.note,
    metadataStripped: r.stripped_blob_id !== null,
  };
}
