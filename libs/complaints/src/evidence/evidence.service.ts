import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, HejieConfig } from '@app/shared';
import { ComplaintRow, canSee } from '../complaint.row';
import { ComplaintsService } from '../complaints.service';
import { BLOB_STORE } from './blob-store';
import type { BlobStore } from './blob-store';
import {
  EvidenceParty,
  EvidenceType,
  PHOTO_TYPES,
  cleanFilename,
  mayAttach,
  mayFetchOriginal,
  partyOf,
} from './evidence-policy';
import { onePhotoAtATime, sniffed, stripPhotoFile } from './media';

/** One part of a multipart body, as the HTTP layer hands it over (fields and files in order). */
export type UploadPart =
  | {
      type: 'file';
      fieldname: string;
      filename?: string;
      /** The part's bytes; `truncated` once the size limit cut it. */
      file: AsyncIterable<Buffer> & Readable & { truncated?: boolean };
    }
  | { type: 'field'; fieldname: string; value: unknown; valueTruncated?: boolean };

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
  /** Photos: the copy served to the other party has no location/device metadata. */
  metadataStripped: boolean;
}

interface AttachmentRow {
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

const NOTE_MAX = 2000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function badRequest(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, {}, [{ field, message }]);
}

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
 * A body that is not well-formed multipart (no boundary, cut short, a broken part header) is
 * the client's error: busboy reports it as a plain Error. Domain errors, Fastify's own (FST_*,
 * mapped by the problem filter) and system errors (a full disk: E…) pass through.
 */
function asClientError(e: unknown): unknown {
  if (e instanceof DomainError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('FST_') || /^E[A-Z]+$/.test(code))) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DomainError('VALIDATION_FAILED', `malformed multipart body: ${message.slice(0, 200)}`);
}

async function* clientErrors<T>(parts: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* parts;
  } catch (e) {
    throw asClientError(e);
  }
}

function readNote(part: Extract<UploadPart, { type: 'field' }>): string | null {
  if (typeof part.value !== 'string' || part.valueTruncated) {
    throw badRequest('note', `text of at most ${NOTE_MAX} characters`);
  }
  if (part.value.length > NOTE_MAX) throw badRequest('note', `at most ${NOTE_MAX} characters`);
  if (part.value.includes('\u0000') || LONE_SURROGATE.test(part.value)) {
    throw badRequest('note', 'contains U+0000 or an unpaired surrogate');
  }
  return part.value.trim() === '' ? null : part.value;
}

/**
 * Evidence (API.md "Evidence"): uploads streamed into the blob store while they are typed and
 * hashed, photos copied without metadata, the attachment row and its `attachment_added` event
 * written in the same transaction as the bytes — a refused upload leaves no row and no chunk.
 */
@Injectable()
export class EvidenceService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    private readonly complaints: ComplaintsService,
  ) {}

  /** Checks that need no body (visibility, state, count), to refuse before reading the upload. */
  async precheck(id: string, actor: Actor): Promise<void> {
    const t = await this.visibleRow(id, actor);
    this.assertMayAttach(t);
    await this.assertUnderLimit(this.db.manager, id, partyOf(actor));
  }

  /**
   * Reads the form (one `file`, an optional `note`), then stores it. The file is typed from its
   * first 4 KiB (a refused type stops there) and spooled to a temporary file as it arrives, so a
   * slow client never holds a database connection; then ONE short transaction streams it into
   * the blob store, adds the stripped copy of a photo, the attachment row and its event.
   */
  async upload(
    id: string,
    actor: Actor,
    parts: AsyncIterable<UploadPart>,
  ): Promise<AttachmentView> {
    const maxBytes = this.config.attachmentMaxBytes;
    const spool = await mkdtemp(join(tmpdir(), 'hejie-upload-'));
    try {
      const path = join(spool, 'file');
      let type: EvidenceType | undefined;
      let spooled = false;
      let rawName: string | undefined;
      let note: string | null = null;
      for await (const part of clientErrors(parts)) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || spooled) {
            part.file.resume();
            throw badRequest(part.fieldname, 'exactly one file part, named "file", is expected');
          }
          try {
            await pipeline(
              Readable.from(sniffed(part.file, (t) => (type = t))),
              createWriteStream(path, { flags: 'wx' }),
            );
          } catch (e) {
            part.file.resume(); // discard the rest, so the client reads our answer
            throw asClientError(e);
          }
          if (part.file.truncated) {
            throw new DomainError('PAYLOAD_TOO_LARGE', `the file exceeds ${maxBytes} bytes`, {
              maxBytes,
            });
          }
          spooled = true;
          rawName = part.filename;
        } else if (part.fieldname === 'note') {
          note = readNote(part);
        } else {
          throw badRequest(part.fieldname, 'unknown part (expected "file" and optional "note")');
        }
      }
      if (!spooled || !type) throw badRequest('file', 'a file part is required');
      // A photo's copy without metadata is made before the transaction opens (CPU, not locks).
      const stripped = PHOTO_TYPES.includes(type) ? join(spool, 'stripped') : null;
      if (stripped) await stripPhoto(path, stripped, type);
      return await this.persist(
        id,
        actor,
        { path, stripped },
        type,
        cleanFilename(rawName, type),
        note,
      );
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  }

  /** The write: blob(s), attachment row and `attachment_added`, all or nothing. */
  private async persist(
    id: string,
    actor: Actor,
    files: { path: string; stripped: string | null },
    contentType: EvidenceType,
    filename: string,
    note: string | null,
  ): Promise<AttachmentView> {
    const maxBytes = this.config.attachmentMaxBytes;
    const attachmentId = randomUUID();
    const party = partyOf(actor);
    return this.db.transaction(async (tx) => {
      const blob = await this.store.put(tx, createReadStream(files.path), { maxBytes });
      const stripped = files.stripped
        ? await this.store.put(tx, createReadStream(files.stripped))
        : null;
      let at = new Date();
      await this.complaints.recordEvent(tx, id, actor, async (t, now, ltx) => {
        // Under the ticket's row lock: the state and the count cannot change meanwhile.
        this.assertMayAttach(t);
        await this.assertUnderLimit(ltx, id, party);
        at = now;
        await ltx.query(
          `INSERT INTO attachments (id, complaint_id, party, uploaded_by_role, uploaded_by, filename,
             content_type, size, sha256, blob_id, stripped_blob_id, stripped_size, stripped_sha256,
             note, event_seq, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
          [
            attachmentId,
            id,
            party,
            actor.role,
            actor.sub,
            filename,
            contentType,
            blob.size,
            blob.sha256,
            blob.id,
            stripped?.id ?? null,
            stripped?.size ?? null,
            stripped?.sha256 ?? null,
            note,
            t.event_count + 1,
            now,
          ],
        );
        return {
          event: {
            type: 'attachment_added',
            data: {
              attachmentId,
              filename,
              contentType,
              size: blob.size,
              sha256: blob.sha256,
              ...(note !== null ? { note } : {}),
            },
          },
        };
      });
      return {
        id: attachmentId,
        filename,
        contentType,
        size: blob.size,
        sha256: blob.sha256,
        uploadedBy: { role: actor.role },
        at: at.toISOString(),
        note,
        metadataStripped: stripped !== null,
      };
    });
  }

  async list(id: string, actor: Actor): Promise<{ items: AttachmentView[] }> {
    await this.visibleRow(id, actor);
    const rows: AttachmentRow[] = await this.db.query(
      `SELECT * FROM attachments WHERE complaint_id = $1 ORDER BY created_at, id`,
      [id],
    );
    return { items: rows.map(viewOf) };
  }

  /** The attachments of a ticket, for the case packet (no visibility check: the caller did it). */
  async listFor(tx: Pick<EntityManager, 'query'>, id: string): Promise<AttachmentView[]> {
    const rows: AttachmentRow[] = await tx.query(
      `SELECT * FROM attachments WHERE complaint_id = $1 ORDER BY created_at, id`,
      [id],
    );
    return rows.map(viewOf);
  }

  async download(
    id: string,
    attachmentId: string,
    actor: Actor,
    wantOriginal: boolean,
  ): Promise<AttachmentDownload> {
    await this.visibleRow(id, actor);
    const [row]: AttachmentRow[] = await this.db.query(
      `SELECT * FROM attachments WHERE id = $1 AND complaint_id = $2`,
      [attachmentId, id],
    );
    if (!row) throw new DomainError('NOT_FOUND', `attachment ${attachmentId} not found`);
    const mayOriginal = mayFetchOriginal(actor, row.party);
    if (wantOriginal && !mayOriginal) {
      throw new DomainError(
        'FORBIDDEN',
        'the original of this photo (with its metadata) is for its uploader and the office',
      );
    }
    // The uploader's own party gets back what it sent; everyone else the stripped copy, unless
    // they may and do ask for the original.
    const original =
      !row.stripped_blob_id || wantOriginal || (partyOf(actor) === row.party && mayOriginal);
    const blobId = original ? row.blob_id : row.stripped_blob_id!;
    return {
      stream: this.store.get(blobId),
      contentType: row.content_type,
      filename: row.filename,
      size: Number(original ? row.size : row.stripped_size),
      sha256: original ? row.sha256 : row.stripped_sha256!,
      original,
    };
  }

  private assertMayAttach(t: ComplaintRow): void {
    if (!mayAttach(t.status)) {
      throw new DomainError(
        'INVALID_TRANSITION',
        `evidence cannot be added to a ticket that is ${t.status.replace(/_/g, ' ')}`,
        { ticketStatus: t.status, action: 'add_attachment' },
      );
    }
  }

  private async assertUnderLimit(
    db: Pick<EntityManager, 'query'>,
    id: string,
    party: EvidenceParty,
  ): Promise<void> {
    const max = this.config.attachmentMaxCount;
    const [{ n }]: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM attachments WHERE complaint_id = $1 AND party = $2`,
      [id, party],
    );
    if (n >= max) {
      throw new DomainError(
        'ATTACHMENT_LIMIT',
        `at most ${max} attachments per party on a ticket (the ${party} has ${n})`,
        { limit: max },
      );
    }
  }

  private async visibleRow(id: string, actor: Actor): Promise<ComplaintRow> {
    const [row]: ComplaintRow[] = await this.db.query('SELECT * FROM complaints WHERE id = $1', [
      id,
    ]);
    if (!row || !canSee(row, actor))
      throw new DomainError('NOT_FOUND', `complaint ${id} not found`);
    return row;
  }
}

function viewOf(r: AttachmentRow): AttachmentView {
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
