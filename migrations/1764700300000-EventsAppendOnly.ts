import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The trail is append-only in the database, not only by convention: a trigger refuses UPDATE and
 * DELETE on `complaint_events` (row level, so even a statement that matches nothing is fine, but
 * one that touches a row fails) and TRUNCATE (statement level), and PUBLIC loses those
 * privileges. The application and the tests connect as a superuser, for whom privileges do not
 * bite: the trigger does. docs/SECURITY.md describes the recommended non-owner application role.
 *
 * A superuser can still bypass triggers (`session_replication_role = replica`, `ALTER TABLE …
 * DISABLE TRIGGER`): that insider is what the hash chain and the signed checkpoints catch.
 */
export class EventsAppendOnly1764700300000 implements MigrationInterface {
  name = 'EventsAppendOnly1764700300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION complaint_events_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'complaint_events is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await q.query(`
      CREATE TRIGGER complaint_events_no_update_delete
        BEFORE UPDATE OR DELETE ON complaint_events
        FOR EACH ROW EXECUTE FUNCTION complaint_events_append_only()`);
    await q.query(`
      CREATE TRIGGER complaint_events_no_truncate
        BEFORE TRUNCATE ON complaint_events
        FOR EACH STATEMENT EXECUTE FUNCTION complaint_events_append_only()`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON complaint_events FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER complaint_events_no_truncate ON complaint_events`);
    await q.query(`DROP TRIGGER complaint_events_no_update_delete ON complaint_events`);
    await q.query(`DROP FUNCTION complaint_events_append_only()`);
  }
}
