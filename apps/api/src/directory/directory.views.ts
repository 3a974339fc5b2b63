import { Merchant, Office, PaymentAccount, Store, regionName } from '@app/directory';
import { MerchantResponse, OfficeResponse, StoreResponse } from './directory.dto';

export const merchantView = (m: Merchant): MerchantResponse => ({
  id: m.id,
  name: m.name,
  creditCode: m.creditCode,
  contactEmail: m.contactEmail,
  webhookUrl: m.webhookUrl,
  createdAt: m.createdAt.toISOString(),
});

export const storeView = (s: Store & { paymentAccounts?: PaymentAccount[] }): StoreResponse => ({
  id: s.id,
  merchantId: s.merchantId,
  name: s.name,
  address: s.address,
  regionCode: s.regionCode,
  regionName: regionName(s.regionCode),
  paymentAccounts: (s.paymentAccounts ?? []).map((a) => ({
    provider: a.provider,
    accountId: a.accountId,
  })),
  createdAt: s.createdAt.toISOString(),
});

export const officeView = (o: Office): OfficeResponse => ({
  id: o.id,
  name: o.name,
  kind: o.kind,
  regionCodes: (o.regions ?? []).map((r) => r.prefix).sort(),
  regionNames: (o.regions ?? [])
    .map((r) => r.prefix)
    .sort()
    .map(regionName),
  ruleSet: o.ruleSet,
  createdAt: o.createdAt.toISOString(),
});
