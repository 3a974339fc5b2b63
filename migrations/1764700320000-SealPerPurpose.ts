import { createCipheriv, randomBytes } from 'node:crypto';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { openFor, openLegacyV1, parsePiiKey, sealFor } from '../libs/shared/src/crypto';
import type { SealPurpose } from '../libs/shared/src/crypto';

/** Rows re-sealed per statement. */
const BATCH = 1000;

interface Column {
  table: string;
  column: string;
  purpose: SealPurpose;
}
/** Every column sealed at rest, with its purpose (the row's `id` is the associated data). */
const SEALED: Column[] = [
  { table: 'complaints', column: 'contact_phone_enc', purpose: 'phone' },
  { table: 'merchants', column: 'webhook_secret', purpose: 'webhook-secret' },
];

/**
 * Re-seals what exists from v1 (AES-256-GCM under PII_KEY itself, no associated data) to v2 (a
 * key per purpose derived from PII_KEY with HKDF, the row id as associated data; see
 * libs/shared/src/crypto/sealed.ts). A migration has no application config: it reads PII_KEY from
 * the environment, and refuses to run without it when there is anything to re-seal (an empty
 * database needs no key). Batched by id, one UPDATE per batch.
 */
export class SealPerPurpose1764700320000 implements MigrationInterface {
  name = 'SealPerPurpose1764700320000';

  async up(q: QueryRunner): Promise<void> {
    await this.convert(q, 'v1', (key, c, id, sealed) =>
      sealFor(key, c.purpose, id, openLegacyV1(key, sealed)),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await this.convert(q, 'v2', (key, c, id, sealed) =>
      sealLegacyV1(key, openFor(key, c.purpose, id, sealed)),
    );
  }

  private async convert(
    q: QueryRunner,
    from: 'v1' | 'v2',
    reseal: (key: Buffer, c: Column, id: string, sealed: string) => string,
  ): Promise<void> {
    let key: Buffer | null | undefined;
    for (const c of SEALED) {
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const rows: { id: string; sealed: string }[] = await q.query(
          `SELECT id, ${c.column} AS sealed FROM ${c.table}
            WHERE ${c.column} LIKE $1 AND id > $2 ORDER BY id LIMIT ${BATCH}`,
          [`${from}.%`, after],
        );
        if (!rows.length) break;
        if (key === undefined) key = parsePiiKey(process.env.PII_KEY);
        if (!key) {
          throw new Error(
            `${this.name}: ${c.table}.${c.column} holds ${from} sealed values; set PII_KEY (the key they were sealed with) to re-seal them`,
          );
        }
        const k = key;
        const ids = rows.map((r) => r.id);
        const values = rows.map((r) => reseal(k, c, r.id, r.sealed));
        await q.query(
          `UPDATE ${c.table} t SET ${c.column} = v.sealed
             FROM unnest($1::uuid[], $2::text[]) AS v(id, sealed)
            WHERE t.id = v.id`,
          [ids, values],
        );
        after = ids[ids.length - 1];
      }
    }
  }
}

/** The v1 format, written again only when this migration is reverted. */
function sealLegacyV1(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ct]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}
