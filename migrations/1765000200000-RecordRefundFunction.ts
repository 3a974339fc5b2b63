import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A single refund (RefundsService.record) as one function call: `hejie_record_refund(…)` takes
 * the refunds' gate (shared) and the trade's bucket lock, then runs the statement that reads the
 * refund stored under the key, the receipt and the trade's refunds so far, names the rule that
 * refuses the refund (`refusal`: 'stored', 'nothing_new', 'exceeds', 'currency') or inserts it
 * (`refusal` null, the row in `inserted`) — so a refund is either stored or refused for the
 * reason given, never neither.
 *
 * Why a function (issue 13, docs/PERFORMANCE.md "Refund intake, 2026-12-03"): the statement was
 * sent as one simple query (BEGIN; the locks; the statement with its values inlined; COMMIT), so
 * PostgreSQL parsed and planned it for every refund — 0.4 ms of the backend's 0.9 ms per refund
 * (EXPLAIN: planning 0.42 ms, execution 0.3 ms), more than the whole statement of the bench's
 * floor. PL/pgSQL keeps the statement's plan for the session (a generic plan: the partitions are
 * pruned at run time through the key tables, as before), and the call runs as one statement in
 * its own implicit transaction: no BEGIN / COMMIT round, and a failure (the key taken under
 * another trade: unique_violation) leaves nothing to roll back.
 *
 * The locks must come before the statement's snapshot: a statement's snapshot is taken when it
 * starts, so reads in the statement that waited for a lock would miss a refund committed
 * meanwhile. A VOLATILE function takes a fresh snapshot for each statement it runs (read
 * committed), so the statement after the PERFORMs sees every refund of the trade committed
 * before the locks were granted — what the separate statements of the simple query did.
 *
 * The lock keys come from the caller (refund-rows.ts: refundGateKey, tradeLockKey), the one home
 * of the refunds' advisory locks. The refund stored under the key and the receipt are read
 * through the key tables (refund_keys, receipt_keys) and then the partition's primary key, as
 * the refund batch reads them: a kept plan cannot pick a worse index for them.
 */
const RECORD_REFUND_FN = `
  CREATE FUNCTION hejie_record_refund(
    p_provider text, p_trade_no text, p_refund_no text,
    -- This refund's amount (generic, WeChat Pay), or null: Alipay's running total minus what is
    -- recorded for the trade.
    p_amount bigint, p_refunded_total bigint,
    p_currency text, p_refunded_at timestamptz, p_fingerprint text, p_raw text,
    p_raw_content_type text,
    p_gate_space int, p_gate_key int, p_trade_space int, p_trade_key int)
  RETURNS TABLE (refusal text, existing jsonb, inserted jsonb, receipt_id uuid, paid bigint,
                 currency text, recorded numeric, amount bigint)
  LANGUAGE plpgsql VOLATILE AS $$
  #variable_conflict use_column
  DECLARE
    v_recorded numeric;
  BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_gate_space, p_gate_key);
    PERFORM pg_advisory_xact_lock(p_trade_space, p_trade_key);
    -- The trade's refunds so far, in every month. Planned for each call (EXECUTE): a plan kept
    -- for the session and made while a month's partition was empty (a new month, no statistics
    -- yet) reads it through the (provider, refund_no) index, every refund of the provider in
    -- that month per call, until the partition is analysed. The trade's lock and the gate keep
    -- the sum as it is until this call ends.
    EXECUTE 'SELECT coalesce(sum(amount_minor), 0) FROM refunds WHERE provider = $1 AND trade_no = $2'
       INTO v_recorded USING p_provider, p_trade_no;
    RETURN QUERY
    -- The refund and the receipt through their key tables and then the primary key of the
    -- one partition: no index to choose, whatever the statistics (this plan is kept).
    WITH ex AS (SELECT f.* FROM refund_keys k
                  JOIN refunds f ON f.id = k.refund_id AND f.refunded_at = k.refunded_at
                 WHERE k.provider = p_provider AND k.refund_no = p_refund_no),
         rc AS (SELECT r.id, r.amount_minor, rtrim(r.currency) AS currency FROM receipt_keys k
                  JOIN receipts r ON r.id = k.receipt_id AND r.paid_at = k.paid_at
                 WHERE k.provider = p_provider AND k.trade_no = p_trade_no),
         d AS (
           SELECT a.amount, a.recorded,
                  CASE WHEN EXISTS (SELECT 1 FROM ex) THEN 'stored'
                       WHEN a.amount <= 0 THEN 'nothing_new'
                       WHEN EXISTS (SELECT 1 FROM rc WHERE a.recorded + a.amount > rc.amount_minor)
                         THEN 'exceeds'
                       WHEN EXISTS (SELECT 1 FROM rc WHERE rc.currency <> p_currency) THEN 'currency'
                  END AS refusal
             FROM (SELECT coalesce(p_amount, p_refunded_total - v_recorded)::bigint AS amount,
                          v_recorded AS recorded) a),
         ins AS (
           INSERT INTO refunds (provider, refund_no, trade_no, receipt_id, amount_minor, currency,
                                refunded_at, fingerprint, raw, raw_content_type)
           SELECT p_provider, p_refund_no, p_trade_no, (SELECT id FROM rc), d.amount, p_currency,
                  p_refunded_at, p_fingerprint, p_raw, p_raw_content_type
             FROM d WHERE d.refusal IS NULL
           RETURNING *)
    SELECT d.refusal, (SELECT to_jsonb(ex.*) FROM ex), (SELECT to_jsonb(ins.*) FROM ins),
           (SELECT id FROM rc), (SELECT amount_minor FROM rc), (SELECT currency FROM rc),
           d.recorded, d.amount
      FROM d;
  END
  $$`;

export class RecordRefundFunction1765000200000 implements MigrationInterface {
  name = 'RecordRefundFunction1765000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(RECORD_REFUND_FN);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION hejie_record_refund(text, text, text, bigint, bigint, text, timestamptz,
                                         text, text, text, int, int, int, int)`,
    );
  }
}
