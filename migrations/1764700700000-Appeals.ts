import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appeals (申诉): who made a decision that can be appealed (`decided_by`, `decided_at`: the
 * officer's `sub`, or the worker's name for a mediation that timed out), and the one appeal a
 * ticket may have. Review deadlines of open appeals are indexed like the other deadlines.
 */
export class Appeals1764700700000 implements MigrationInterface {
  name = 'Appeals1764700700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE complaints
        ADD COLUMN decided_by text,
        ADD COLUMN decided_at timestamptz(3),
        ADD COLUMN appealed_at timestamptz(3),
        ADD COLUMN appeal_from text,
        ADD COLUMN appeal_reason text,
        ADD COLUMN review_by timestamptz(3),
        ADD COLUMN appeal_outcome text,
        ADD COLUMN appeal_note text,
        ADD COLUMN appeal_decided_by text,
        ADD COLUMN appeal_decided_at timestamptz(3)`);
    await q.query(`
      ALTER TABLE complaints ADD CONSTRAINT ck_complaints_appeal CHECK (
        (status <> 'appealed' OR (appealed_at IS NOT NULL AND review_by IS NOT NULL))
        AND (appeal_from IS NULL OR appeal_from IN ('declined', 'mediation_failed'))
        AND (appeal_outcome IS NULL OR appeal_outcome IN ('upheld', 'overturned')))`);
    await q.query(
      `CREATE INDEX ix_complaints_due_review ON complaints (review_by) WHERE status = 'appealed'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_complaints_due_review`);
    await q.query(`ALTER TABLE complaints DROP CONSTRAINT ck_complaints_appeal`);
    await q.query(`
      ALTER TABLE complaints
        DROP COLUMN decided_by, DROP COLUMN decided_at, DROP COLUMN appealed_at,
        DROP COLUMN appeal_from, DROP COLUMN appeal_reason, DROP COLUMN review_by,
        DROP COLUMN appeal_outcome, DROP COLUMN appeal_note, DROP COLUMN appeal_decided_by,
        DROP COLUMN appeal_decided_at`);
  }
}
