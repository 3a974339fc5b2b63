import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evidence and the case packet (issue 14).
 *
 * - `attachment_blobs` + `attachment_chunks`: the PostgreSQL store behind the evidence storage
 *   interface (libs/complaints/src/evidence/blob-store.ts). A file is written chunk by chunk
 *   (256 KiB bytea rows) while it streams in, and read back the same way: no whole-file buffer.
 * - `attachments`: one row per upload; `blob_id` the original (its sha256 is on the trail),
 *   `stripped_blob_id` a photo re-encoded without EXIF/XMP/GPS (what the other party gets).
 * - `complaint_complainants`: the complainant's real name, phone and address, sealed as one
 *   PII value (never in clear in the database).
 */
export class Evidence1764700600000 implements MigrationInterface {
  name = 'Evidence1764700600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE attachment_blobs (
        id uuid PRIMARY KEY,
        size bigint NOT NULL CHECK (size >= 0),
        sha256 char(64) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE attachment_chunks (
        blob_id uuid NOT NULL REFERENCES attachment_blobs(id) ON DELETE CASCADE,
        n integer NOT NULL CHECK (n >= 0),
        data bytea NOT NULL,
        PRIMARY KEY (blob_id, n)
      )`);
    // Chunks are already compressed media: keep TOAST from trying to compress them again.
    await q.query(`ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL`);
    await q.query(`
      CREATE TABLE attachments (
        id uuid PRIMARY KEY,
        complaint_id uuid NOT NULL REFERENCES complaints(id),
        party text NOT NULL CHECK (party IN ('consumer', 'merchant', 'office')),
        uploaded_by_role text NOT NULL,
        uploaded_by text NOT NULL,
        filename text NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL,
        sha256 char(64) NOT NULL,
        blob_id uuid NOT NULL REFERENCES attachment_blobs(id),
        stripped_blob_id uuid REFERENCES attachment_blobs(id),
        stripped_size bigint,
        stripped_sha256 char(64),
        note text,
        event_seq integer NOT NULL,
        created_at timestamptz(3) NOT NULL
      )`);
    await q.query(
      `CREATE INDEX ix_attachments_complaint ON attachments (complaint_id, created_at, id)`,
    );
    await q.query(`
      CREATE TABLE complaint_complainants (
        complaint_id uuid PRIMARY KEY REFERENCES complaints(id),
        sealed text NOT NULL,
        provided_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE complaint_complainants`);
    await q.query(`DROP TABLE attachments`);
    await q.query(`DROP TABLE attachment_chunks`);
    await q.query(`DROP TABLE attachment_blobs`);
  }
}
