import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Before this round `lastError` kept the first 200 characters of a receiver's answer (and the
 * low-level cause of a failed request): with an internal URL that was an SSRF read-back channel,
 * and what it read is still stored. Reduce what exists to the generic reasons deliveries record
 * now ("HTTP 500", "timeout", "request failed"). Not reversible (the text is gone on purpose).
 */
export class ScrubWebhookErrors1764700330000 implements MigrationInterface {
  name = 'ScrubWebhookErrors1764700330000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE webhook_deliveries SET last_error = CASE
          WHEN last_error ~ '^HTTP [0-9]{3}' THEN substring(last_error FROM '^HTTP [0-9]{3}')
          WHEN last_error LIKE 'no answer within %' THEN 'timeout'
          WHEN last_error LIKE 'request failed%' THEN 'request failed'
          ELSE last_error END
        WHERE last_error ~ '^HTTP [0-9]{3}.' OR last_error LIKE 'no answer within %'
           OR last_error LIKE 'request failed:%'`);
  }

  async down(): Promise<void> {
    // Nothing to restore: the receivers' bytes are not kept anywhere.
  }
}
