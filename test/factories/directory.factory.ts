import { randomBytes } from 'node:crypto';
import { creditCodeCheckChar } from '../../libs/directory/src/credit-code';
import type { TestApp } from '../helpers/test-app';
import { bearer } from '../helpers/test-app';

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A fresh, valid unified social credit code (region 330106). */
export function newCreditCode(): string {
  let body = '91330106';
  const rnd = randomBytes(9);
  for (let i = 0; i < 9; i++) body += ALPHABET[rnd[i] % ALPHABET.length];
  return body + creditCodeCheckChar(body);
}

export function uniqueAccount(prefix = 'acct'): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

export async function createMerchant(t: TestApp, overrides: Record<string, unknown> = {}) {
  const res = await t.http
    .post('/v1/merchants')
    .set(bearer(t.token({ role: 'admin' })))
    .send({ name: 'Test Tea House', creditCode: newCreditCode(), ...overrides })
    .expect(201);
  return res.body as { id: string; name: string; creditCode: string };
}

export async function createStore(
  t: TestApp,
  merchantId: string,
  overrides: Record<string, unknown> = {},
) {
  const res = await t.http
    .post(`/v1/merchants/${merchantId}/stores`)
    .set(bearer(t.token({ role: 'admin' })))
    .send({
      name: 'Lakeside store',
      address: '杭州市西湖区北山街1号',
      regionCode: '330106',
      paymentAccounts: [
        { provider: 'alipay', accountId: uniqueAccount('2088') },
        { provider: 'wechatpay', accountId: uniqueAccount('16') },
        { provider: 'sunmi-pos', accountId: uniqueAccount('pos') },
      ],
      ...overrides,
    })
    .expect(201);
  return res.body as {
    id: string;
    merchantId: string;
    regionCode: string;
    paymentAccounts: { provider: string; accountId: string }[];
  };
}

/** A merchant with one store and an account per provider. */
export async function createMerchantWithStore(
  t: TestApp,
  storeOverrides: Record<string, unknown> = {},
) {
  const merchant = await createMerchant(t);
  const store = await createStore(t, merchant.id, storeOverrides);
  const account = (provider: string) =>
    store.paymentAccounts.find((a) => a.provider === provider)!.accountId;
  return { merchant, store, account };
}
