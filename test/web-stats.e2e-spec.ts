/*
 * The statistics page in a browser (Chromium): the plain and the verified rate side by side with
 * what they are made of, the formula under "How is this computed?" rather than as the lead,
 * "no data" unlike 0 %, and districts by name (GB/T 2260, through the API).
 */
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { Browser, Page } from 'playwright-core';
import { StatsService } from '../libs/complaints/src/stats/stats.service';
import { seedDemoHistory } from '../scripts/demo-history';
import { ensureWebBuild, launchChromium } from './helpers/browser';
import { startTestApp, TestApp } from './helpers/test-app';
import { createOffice, createShop, Shop } from './factories/complaint.factory';

describe('statistics page in the browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let busy: Shop;
  let quiet: Shop;
  let office: { id: string };

  beforeAll(async () => {
    const webDist = ensureWebBuild();
    t = await startTestApp({ AUTH_DEV_LOGIN: 'true', WEB_DIST_DIR: webDist });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    // 330199: a district code GB/T 2260 does not name (it has no name to show, only the code).
    office = await createOffice(t, ['330106', '330199'], '杭州市西湖区市场监督管理局');
    busy = await createShop(t, '330106');
    quiet = await createShop(t, '330102');
    const pool = (t.db.driver as unknown as { master: Pool }).master;
    await seedDemoHistory(pool, { merchantIds: [busy.merchant.id], seed: 7 });
    const stats = t.app.get(StatsService, { strict: false });
    while ((await stats.drainBatch(5000)) > 0);
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A page signed in with `claims` (the dashboards keep the session in localStorage). */
  async function statsAs(claims: Parameters<TestApp['token']>[0], nav: string): Promise<Page> {
    const ctx = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const token = t.token(claims);
    await ctx.addInitScript((tk) => {
      localStorage.setItem('hejie.session', JSON.stringify({ token: tk }));
    }, token);
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${base}/app/`);
    await page.getByRole('navigation').getByRole('link', { name: nav }).click();
    await page.locator('#range').selectOption('90');
    await page.getByTestId('rate-pair').waitFor();
    return page;
  }

  it('a merchant with a history: both rates side by side with their counts; the formula only in the disclosure', async () => {
    const page = await statsAs(
      { role: 'merchant', sub: `staff@${busy.merchant.id}`, merchantId: busy.merchant.id },
      '经营数据',
    );
    const plain = page.getByTestId('kpi-rate');
    const verified = page.getByTestId('kpi-verified');
    expect(await plain.locator('[data-rate]').getAttribute('data-rate')).not.toBe('none');
    expect(await plain.textContent()).toMatch(/\d+(\.\d)?%.*\d+ \/ \d+ 件/);
    expect(await verified.textContent()).toMatch(/\d+(\.\d)?%.*\d+ \/ \d+ 件/);
    // Side by side: one row on a desktop.
    const [a, b] = [await plain.boundingBox(), await verified.boundingBox()];
    expect(Math.abs(a!.y - b!.y)).toBeLessThan(2);
    expect(b!.x).toBeGreaterThan(a!.x + a!.width - 1);
    // The lead says what it is, not the formula; the formula is folded away until asked for.
    expect(await page.locator('.lead').textContent()).not.toContain('÷');
    const how = page.getByTestId('stats-how');
    const formula = how.getByText('自主和解率 = 自主和解 ÷', { exact: false });
    expect(await formula.isVisible()).toBe(false);
    await how.locator('summary').click();
    await formula.waitFor({ state: 'visible' });
    expect(await how.getByText('核验和解率 =', { exact: false }).isVisible()).toBe(true);
    await page.context().close();
  });

  it('a merchant without tickets: "no data" in an outlined card, never 0 %', async () => {
    const page = await statsAs(
      { role: 'merchant', sub: `staff@${quiet.merchant.id}`, merchantId: quiet.merchant.id },
      '经营数据',
    );
    const plain = page.getByTestId('kpi-rate');
    expect(await plain.getAttribute('class')).toMatch(/rate-card-none/);
    expect(await plain.textContent()).toContain('暂无数据');
    expect(await plain.textContent()).not.toMatch(/0\s?%/);
    await page.context().close();
  });

  it('districts by name: the office sees 西湖区, not the bare code', async () => {
    const page = await statsAs(
      { role: 'regulator', sub: `officer@${office.id}`, officeId: office.id },
      '统计',
    );
    const row = page.locator('figure.chart table th[scope="row"]', { hasText: '330106' });
    await row.waitFor();
    expect(await row.textContent()).toContain('西湖区');
    const unnamed = page.locator('figure.chart table th[scope="row"]', { hasText: '330199' });
    expect((await unnamed.textContent())?.trim()).toBe('330199');
    await page.context().close();
  });
});
