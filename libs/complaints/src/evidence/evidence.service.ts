import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, HejieConfig } from '@app/shared';
import type { ComplaintRow } from '../complaint.row';
import { visibleTicket } from '../policy/visibility';
import { TicketTransitions } from '../changes/transitions';
import { AttachmentDownload, AttachmentRow, AttachmentView, viewOf } from './attachment.view';
import { BLOB_STORE, CHUNK_BYTES } from './blob-store';
import type { BlobStore } from './blob-store';
import { writeOtherPartyCopy } from './derivative';
import {
  EvidenceParty,
  EvidenceType,
  cleanFilename,
  mayAttach,
  mayFetchOriginal,
  partyOf,
} from './evidence-policy';
import { UploadPart, spoolForm } from './upload-form';
import { concurrencyLimit } from './work-queue';

/**
 * Uploads written to the database at once per process (the others wait their turn, with their
 * file already on disk: a queued upload holds no memory and no connection). Each write keeps a
 * read buffer, a chunk and its bind message in flight (~1 MB); ten at once also meant ten
 * pooled connections busy and the heap growing faster than it was collected.
 */
export const UPLOAD_WRITES_AT_ONCE = 2;
const oneWriteSlot = concurrencyLimit(UPLOAD_WRITES_AT_ONCE);

/**
 * Evidence (API.md "Evidence"): uploads streamed into the blob store while they are typed and
 * hashed, the other party's copy made without metadata (photos, PDFs, MP4s), the attachment row and its `attachment_added` event
 * written in the same transaction as the bytes — a refused upload leaves no row and no chunk.
 */
@Injectable()
export class EvidenceService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    private readonly transitions: TicketTransitions,
  ) {}

  /** Checks that need no body (visibility, state, count), to refuse before reading the upload. */
  async precheck(id: string, actor: Actor): Promise<void> {
    const t = await visibleTicket(this.db, id, actor);
    this.assertMayAttach(t);
    await this.assertUnderLimit(this.db.manager, id, partyOf(actor));
  }

  /**
   * Reads the form (one `file`, an optional `note`), then stores it. The file is typed from its
   * first 4 KiB (a refused type stops there) and spooled to a temporary file as it arrives, so a
   * slow client never holds a database connection; then ONE short transaction streams it into
   * the blob store, adds the other party's copy (derivative.ts), the attachment row and its
   * event. At most UPLOAD_WRITES_AT_ONCE of those transactions run at once per process.
   */
  async upload(
    id: string,
    actor: Actor,
    parts: AsyncIterable<UploadPart>,
  ): Promise<AttachmentView> {
    const spool = await mkdtemp(join(tmpdir(), 'hejie-upload-'));
    try {
      const form = await spoolForm(parts, join(spool, 'file'), this.config.attachmentMaxBytes);
      const copy = join(spool, 'stripped');
      const stripped = (await writeOtherPartyCopy(form.path, copy, form.type)) ? copy : null;
      return await oneWriteSlot(() =>
        this.persist(
          id,
          actor,
          { path: form.path, stripped },
          form.type,
          cleanFilename(form.rawName, form.type),
          form.note,
        ),
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
      // Read in chunk-sized buffers: the store writes each as it comes, without joining.
      const read = (path: string) => createReadStream(path, { highWaterMark: CHUNK_BYTES });
      const blob = await this.store.put(tx, read(files.path), { maxBytes });
      const stripped = files.stripped ? await this.store.put(tx, read(files.stripped)) : null;
      let at = new Date();
      await this.transitions.recordEvent(tx, id, actor, async (t, now, ltx) => {
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
    await visibleTicket(this.db, id, actor);
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
    await visibleTicket(this.db, id, actor);
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
}
