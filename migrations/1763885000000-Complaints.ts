import { MigrationInterface, QueryRunner } from 'typeorm';

export class Complaints1763885000000 implements MigrationInterface {
  name = 'Complaints1763885000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE complaint_number_seq`);
    await q.query(`
      CREATE TABLE complaints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        number text NOT NULL,
        status text NOT NULL,
        receipt_id uuid NOT NULL REFERENCES receipts(id),
        consumer_id text NOT NULL,
        merchant_id uuid NOT NULL REFERENCES merchants(id),
        store_id uuid NOT NULL REFERENCES stores(id),
        region_code char(6) NOT NULL,
        order_snapshot jsonb NOT NULL,
        category text NOT NULL,
        demand_type text NOT NULL,
        demand_amount_minor bigint,
        description text NOT NULL,
        contact_phone_enc text,
        contact_phone_masked text,
        idempotency_key text,
        merchant_respond_by timestamptz(3) NOT NULL,
        resolve_by timestamptz(3) NOT NULL,
        first_response_at timestamptz(3),
        pending_offer_id uuid,
        office_id uuid REFERENCES offices(id),
        escalated_at timestamptz(3),
        escalation_reason text,
        accept_by timestamptz(3),
        accepted_at timestamptz(3),
        mediation_end_by timestamptz(3),
        decline_reason text,
        decline_detail text,
        mediation_outcome jsonb,
        closed_at timestamptz(3),
        event_count integer NOT NULL DEFAULT 0,
        head_hash char(64),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    // One ticket per receipt: the index decides between parallel taps.
    await q.query(`CREATE UNIQUE INDEX uq_complaints_receipt ON complaints (receipt_id)`);
    await q.query(`CREATE UNIQUE INDEX uq_complaints_number ON complaints (number)`);
    await q.query(
      `CREATE UNIQUE INDEX uq_complaints_idempotency ON complaints (consumer_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_consumer ON complaints (consumer_id, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_merchant_inbox ON complaints (merchant_id, merchant_respond_by, id)`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_office ON complaints (office_id, escalated_at, id) WHERE office_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_status_created ON complaints (status, created_at, id)`,
    );
    // Partial indexes on the deadlines of open tickets: what the worker's sweep scans.
    await q.query(
      `CREATE INDEX ix_complaints_due_merchant ON complaints (merchant_respond_by) WHERE status = 'awaiting_merchant'`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_due_resolve ON complaints (resolve_by) WHERE status = 'in_negotiation'`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_due_accept ON complaints (accept_by) WHERE status = 'escalated'`,
    );
    await q.query(
      `CREATE INDEX ix_complaints_due_mediation ON complaints (mediation_end_by) WHERE status = 'mediating'`,
    );

    await q.query(`
      CREATE TABLE complaint_offers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        complaint_id uuid NOT NULL REFERENCES complaints(id),
        type text NOT NULL,
        amount_minor bigint,
        note text,
        status text NOT NULL,
        reject_reason text,
        created_by text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        decided_at timestamptz(3)
      )`);
    await q.query(
      `CREATE INDEX ix_offers_complaint ON complaint_offers (complaint_id, created_at)`,
    );
    // One pending offer at a time, whatever races.
    await q.query(
      `CREATE UNIQUE INDEX uq_offers_one_pending ON complaint_offers (complaint_id) WHERE status = 'pending'`,
    );

    await q.query(`
      CREATE TABLE complaint_events (
        complaint_id uuid NOT NULL REFERENCES complaints(id),
        seq integer NOT NULL,
        type text NOT NULL,
        actor_role text NOT NULL,
        actor_id text,
        at timestamptz(3) NOT NULL,
        data jsonb NOT NULL,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL,
        CONSTRAINT pk_complaint_events PRIMARY KEY (complaint_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE complaint_events`);
    await q.query(`DROP TABLE complaint_offers`);
    await q.query(`DROP TABLE complaints`);
    await q.query(`DROP SEQUENCE complaint_number_seq`);
  }
}
