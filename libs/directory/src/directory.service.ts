import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  DEFAULT_LIMIT,
  DomainError,
  HEJIE_CONFIG,
  Page,
  UNIQUE_VIOLATION,
  pageOf,
  pgCode,
  pgConstraint,
} from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { isValidCreditCode } from './credit-code';
import { decodeTimeIdCursor } from './keyset-cursor';
import {
  Merchant,
  Office,
  OfficeKind,
  OfficeRegion,
  PaymentAccount,
  Store,
} from './directory.entities';
import { newWebhookSecret, sealWebhookSecret } from './webhook-secret';
import { WEBHOOK_RESOLVER, assertWebhookUrlAllowed } from './webhook-url';
import type { WebhookResolver } from './webhook-url';

export interface NewMerchant {
  name: string;
  creditCode: string;
  contactEmail?: string;
  webhookUrl?: string;
}
/** PATCH /v1/merchants/:id: absent fields stay; null removes the webhook URL or e-mail. */
export interface MerchantChanges {
  webhookUrl?: string | null;
  contactEmail?: string | null;
}
export interface NewStore {
  name: string;
  address: string;
  regionCode: string;
  paymentAccounts: { provider: string; accountId: string }[];
}
export interface NewOffice {
  name: string;
  regionCodes: string[];
  kind?: OfficeKind;
  /** A rule set id (checked by the caller against the known sets); default RULE_SET. */
  ruleSet?: string;
}
export interface ListQuery {
  limit?: number;
  cursor?: string;
}

/** A new merchant, with its webhook signing secret in clear: shown this once, never again. */
export interface CreatedMerchant {
  merchant: Merchant;
  webhookSecret: string;
}

/** Where a payee account leads: the store, its merchant and its region. */
export interface AccountOwner {
  storeId: string;
  merchantId: string;
  regionCode: string;
}

/** A connection already held by the caller (a pg PoolClient fits). */
export interface SqlConnection {
  query<R>(sql: string, params: unknown[]): Promise<{ rows: R[] }>;
}

@Injectable()
export class DirectoryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    @Inject(WEBHOOK_RESOLVER) private readonly resolveHost: WebhookResolver,
  ) {}

  /** 422 WEBHOOK_URL_FORBIDDEN unless the URL may receive webhooks (see webhook-url.ts). */
  async checkWebhookUrl(url: string): Promise<void> {
    await assertWebhookUrlAllowed(url, {
      allowPrivate: this.config.webhookAllowPrivate,
      resolve: this.resolveHost,
    });
  }

  async createMerchant(input: NewMerchant): Promise<CreatedMerchant> {
    if (!isValidCreditCode(input.creditCode)) {
      throw new DomainError(
        'CREDIT_CODE_INVALID',
        `creditCode "${input.creditCode}" is not an 18-character unified social credit code with a valid check character`,
        {},
        [{ field: 'creditCode', message: 'invalid unified social credit code' }],
      );
    }
    if (input.webhookUrl) await this.checkWebhookUrl(input.webhookUrl);
    // The id is chosen here: the sealed secret is bound to it (associated data).
    const id = randomUUID();
    const webhookSecret = newWebhookSecret();
    const { sealed, keyId } = sealWebhookSecret(webhookSecret, this.config.piiKey, id);
    try {
      const repo = this.db.getRepository(Merchant);
      const merchant = await repo.save(
        repo.create({
          id,
          name: input.name,
          creditCode: input.creditCode,
          contactEmail: input.contactEmail ?? null,
          webhookUrl: input.webhookUrl ?? null,
          webhookSecretSealed: sealed,
          webhookSecretKeyId: keyId,
        }),
      );
      return { merchant, webhookSecret };
    } catch (e) {
      if (pgCode(e) === UNIQUE_VIOLATION) {
        throw new DomainError(
          'MERCHANT_EXISTS',
          `a merchant with creditCode ${input.creditCode} exists`,
        );
      }
      throw e;
    }
  }

  /**
   * A new webhook signing secret replaces the old one at once: deliveries still pending (and
   * dead ones retried) are signed with the new secret from their next attempt on.
   */
  async rotateWebhookSecret(merchantId: string): Promise<string> {
    const webhookSecret = newWebhookSecret();
    const { sealed, keyId } = sealWebhookSecret(webhookSecret, this.config.piiKey, merchantId);
    const [rows]: [{ id: string }[], number] = await this.db.query(
      `UPDATE merchants SET webhook_secret = $2, webhook_secret_key_id = $3 WHERE id = $1 RETURNING id`,
      [merchantId, sealed, keyId],
    );
    if (!rows.length) throw new DomainError('NOT_FOUND', `merchant ${merchantId} not found`);
    return webhookSecret;
  }

  /** Changes the webhook URL and/or contact e-mail; the URL is checked as on creation. */
  async updateMerchant(id: string, changes: MerchantChanges): Promise<Merchant> {
    if (changes.webhookUrl) await this.checkWebhookUrl(changes.webhookUrl);
    const sets: string[] = [];
    const params: unknown[] = [id];
    if (changes.webhookUrl !== undefined) {
      params.push(changes.webhookUrl);
      sets.push(`webhook_url = $${params.length}`);
    }
    if (changes.contactEmail !== undefined) {
      params.push(changes.contactEmail);
      sets.push(`contact_email = $${params.length}`);
    }
    if (sets.length) {
      const [rows]: [unknown[], number] = await this.db.query(
        `UPDATE merchants SET ${sets.join(', ')} WHERE id = $1 RETURNING id`,
        params,
      );
      if (!rows.length) throw new DomainError('NOT_FOUND', `merchant ${id} not found`);
    }
    return this.getMerchant(id);
  }

  async getMerchant(id: string): Promise<Merchant> {
    const m = await this.db.getRepository(Merchant).findOneBy({ id });
    if (!m) throw new DomainError('NOT_FOUND', `merchant ${id} not found`);
    return m;
  }

  async listMerchants(q: ListQuery): Promise<Page<Merchant>> {
    return this.keysetPage(Merchant, 'm', q);
  }

  async createStore(
    merchantId: string,
    input: NewStore,
  ): Promise<Store & { paymentAccounts: PaymentAccount[] }> {
    await this.getMerchant(merchantId);
    const seen = new Set<string>();
    for (const a of input.paymentAccounts) {
      const key = `${a.provider}\u0000${a.accountId}`;
      if (seen.has(key)) {
        throw new DomainError(
          'VALIDATION_FAILED',
          `payment account ${a.provider}/${a.accountId} listed twice`,
          {},
          [{ field: 'paymentAccounts', message: 'duplicate account' }],
        );
      }
      seen.add(key);
    }
    try {
      return await this.db.transaction(async (tx) => {
        const store = await tx.getRepository(Store).save(
          tx.getRepository(Store).create({
            merchantId,
            name: input.name,
            address: input.address,
            regionCode: input.regionCode,
          }),
        );
        const accounts = input.paymentAccounts.map((a) =>
          tx
            .getRepository(PaymentAccount)
            .create({ provider: a.provider, accountId: a.accountId, storeId: store.id }),
        );
        if (accounts.length) await tx.getRepository(PaymentAccount).insert(accounts);
        return Object.assign(store, { paymentAccounts: accounts });
      });
    } catch (e) {
      if (pgCode(e) === UNIQUE_VIOLATION && (pgConstraint(e) ?? '').includes('payment_accounts')) {
        throw new DomainError(
          'PAYMENT_ACCOUNT_TAKEN',
          'a payment account in this request already belongs to a store',
        );
      }
      throw e;
    }
  }

  async listStores(merchantId: string, q: ListQuery): Promise<Page<Store>> {
    await this.getMerchant(merchantId);
    return this.keysetPage(
      Store,
      's',
      q,
      (qb) => qb.andWhere('s.merchant_id = :merchantId', { merchantId }),
      ['paymentAccounts'],
    );
  }

  async createOffice(input: NewOffice): Promise<Office> {
    const prefixes = [...new Set(input.regionCodes)];
    return this.db.transaction(async (tx) => {
      const office = await tx.getRepository(Office).save(
        tx.getRepository(Office).create({
          name: input.name,
          kind: input.kind ?? 'regulator',
          ruleSet: input.ruleSet ?? this.config.ruleSet,
        }),
      );
      office.regions = prefixes.map((prefix) =>
        tx.getRepository(OfficeRegion).create({ officeId: office.id, prefix }),
      );
      await tx.getRepository(OfficeRegion).insert(office.regions);
      return office;
    });
  }

  /** Changes the office's rule set for tickets escalated from now on (open tickets keep theirs). */
  async setOfficeRuleSet(id: string, ruleSet: string): Promise<Office> {
    const [, n]: [unknown, number] = await this.db.query(
      `UPDATE offices SET rule_set = $2 WHERE id = $1`,
      [id, ruleSet],
    );
    if (!n) throw new DomainError('NOT_FOUND', `office ${id} not found`);
    return this.getOffice(id);
  }

  async getOffice(id: string): Promise<Office> {
    const o = await this.db
      .getRepository(Office)
      .findOne({ where: { id }, relations: { regions: true } });
    if (!o) throw new DomainError('NOT_FOUND', `office ${id} not found`);
    return o;
  }

  async listOffices(q: ListQuery): Promise<Page<Office>> {
    return this.keysetPage(Office, 'o', q, undefined, ['regions']);
  }

  /**
   * Payee account → store → merchant and region, as resolved at ingestion. `on`: a connection
   * the caller already holds (a batch import's transaction), so that the lookup never waits for
   * a second pool connection while holding one (enough such batches at once would take the whole
   * pool and wait for each other forever).
   */
  async resolveAccounts(
    keys: { provider: string; accountId: string }[],
    on?: SqlConnection,
  ): Promise<Map<string, AccountOwner>> {
    const out = new Map<string, AccountOwner>();
    if (!keys.length) return out;
    const query = async <R>(sql: string, params: unknown[]): Promise<R[]> =>
      on ? (await on.query<R>(sql, params)).rows : this.db.query(sql, params);
    const rows = await query<{
      provider: string;
      account_id: string;
      store_id: string;
      merchant_id: string;
      region_code: string;
    }>(
      `SELECT pa.provider, pa.account_id, s.id AS store_id, s.merchant_id, s.region_code
           FROM payment_accounts pa JOIN stores s ON s.id = pa.store_id
           JOIN unnest($1::text[], $2::text[]) AS k(provider, account_id)
             ON k.provider = pa.provider AND k.account_id = pa.account_id`,
      [keys.map((k) => k.provider), keys.map((k) => k.accountId)],
    );
    for (const r of rows) {
      out.set(accountKey(r.provider, r.account_id), {
        storeId: r.store_id,
        merchantId: r.merchant_id,
        regionCode: r.region_code,
      });
    }
    return out;
  }

  /**
   * The office of each region code (the worker's batches, or one ticket as a batch of one): the
   * office whose region prefix is the longest match; on a tie (two offices declaring the same
   * prefix) the office created first wins. A code no office covers is absent from the map.
   */
  async routeOffices(regionCodes: readonly string[]): Promise<Map<string, string>> {
    const codes = [...new Set(regionCodes)];
    if (!codes.length) return new Map();
    const rows: { code: string; office_id: string }[] = await this.db.query(
      `SELECT DISTINCT ON (c.code) c.code, r.office_id
         FROM unnest($1::text[]) AS c(code)
         JOIN office_regions r ON c.code LIKE r.prefix || '%'
         JOIN offices o ON o.id = r.office_id
        ORDER BY c.code, length(r.prefix) DESC, o.created_at, o.id`,
      [codes],
    );
    return new Map(rows.map((r) => [r.code, r.office_id]));
  }

  private async keysetPage<T extends { id: string; createdAt: Date }>(
    entity: new () => T,
    alias: string,
    q: ListQuery,
    where?: (qb: import('typeorm').SelectQueryBuilder<T>) => void,
    relations: string[] = [],
  ): Promise<Page<T>> {
    const limit = q.limit ?? DEFAULT_LIMIT;
    const repo = this.db.getRepository(entity);
    const qb = repo.createQueryBuilder(alias);
    where?.(qb);
    const cursor = decodeTimeIdCursor(q.cursor);
    if (cursor) {
      qb.andWhere(`(${alias}.created_at, ${alias}.id) > (:c0, :c1)`, {
        c0: cursor[0],
        c1: cursor[1],
      });
    }
    qb.orderBy(`${alias}.created_at`, 'ASC')
      .addOrderBy(`${alias}.id`, 'ASC')
      .limit(limit + 1);
    let rows = await qb.getMany();
    if (relations.length && rows.length) {
      // Relations are loaded for the page's ids only, so a join never cuts the page short.
      const full = await repo.find({
        where: rows.map((r) => ({ id: r.id })) as never,
        relations: Object.fromEntries(relations.map((r) => [r, true])) as never,
      });
      const byId = new Map(full.map((r) => [r.id, r]));
      rows = rows.map((r) => byId.get(r.id) ?? r);
    }
    return pageOf(rows, limit, (r) => [r.createdAt.toISOString(), r.id]);
  }
}

export function accountKey(provider: string, accountId: string): string {
  return `${provider}\u0000${accountId}`;
}
