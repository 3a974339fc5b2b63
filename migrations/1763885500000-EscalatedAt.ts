import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A ticket past the merchant phase was escalated at some moment: the regulator's queues sort and
 * page on `escalated_at`, so a row in an escalation status without it could not be listed. The
 * app always sets it with the status (one guarded UPDATE); this makes every other writer (SQL
 * fixtures, manual repairs) keep that invariant too.
 */
export class EscalatedAt1763885500000 implements MigrationInterface {
  name = 'EscalatedAt1763885500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE complaints ADD CONSTRAINT ck_complaints_escalated_at CHECK (
        status IN ('awaiting_merchant', 'in_negotiation', 'resolved', 'withdrawn')
        OR escalated_at IS NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE complaints DROP CONSTRAINT ck_complaints_escalated_at`);
  }
}
