/*
 * The dashboards as a phone on a slow network and an assistive technology meet them, in headless
 * Chromium against the real API:
 *   - every page of every role, in Chinese and in English, has no axe-core violation;
 *   - the sign-in page and a ticket deep link paint their first content within 1.8 s with
 *     Lighthouse's mobile "Slow 4G" figures (1.6 Mbps down, 150 ms round trip, CPU 4× slower);
 *   - the bundle is split by route (no Chart.js before the statistics page), served
 *     precompressed, and has no public source map.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureWebBuild, launchChromium } from './helpers/browser';
import { bearer, startTestApp } from './helpers/test-app';
import type { TestApp } from './helpers/test-app';
import { createOffice, createReceipt, createShop, ticketIn } from './factories/complaint.factory';
import type { Shop, Ticket } from './factories/complaint.factory';

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
// Lighthouse's mobile preset ("Slow 4G"): 1.6 Mbps down, 750 kbps up, 150 ms RTT, 4× CPU.
const SLOW_4G = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1024 * 1024) / 8,
  uploadThroughput: (750 * 1024) / 8,
};
const FCP_BUDGET_MS = 1800;

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

jest.setTimeout(120_000);

describe('dashboards: accessibility and first paint', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let shop: Shop;
  let regulator: { Authorization: string };
  let officeId: string;
  let open: Ticket;
  let escalated: Ticket;
  /** An accepted refund offer the merchant has not carried out yet (the Settlement card). */
  let settling: Ticket;
  /** Declined by another officer: the consumer's Appeal card. */
  let declined: Ticket;
  /** Declined, then appealed: the regulator's appeal decision form. */
  let appealed: Ticket;
  /** Accepted for mediation: the outcome form, with its errors and its confirmation step. */
  let mediating: Ticket;
  let freshReceiptId: string;
  const regionCode = `3301${70 + Math.floor(Math.random() * 10)}`;

  const tokenOf = (h: { Authorization: string }) => h.Authorization.slice('Bearer '.length);

  async function page(session: string | null, lang: 'zh' | 'en', viewport = PHONE): Promise<Page> {
    const ctx = await browser.newContext({
      viewport,
      locale: lang === 'zh' ? 'zh-CN' : 'en-US',
      timezoneId: 'Asia/Shanghai',
      // axe-core is injected as an inline script, which the app's CSP (rightly) refuses.
      bypassCSP: true,
    });
    contexts.push(ctx);
    await ctx.addInitScript(
      ([token, l]) => {
        localStorage.setItem('hejie.lang', l as string);
        if (token) localStorage.setItem('hejie.session', JSON.stringify({ token }));
      },
      [session, lang],
    );
    const p = await ctx.newPage();
    p.setDefaultTimeout(15_000);
    return p;
  }

  async function violations(p: Page): Promise<Violation[]> {
    await p.addScriptTag({ content: AXE });
    return p.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<any> } }).axe;
      const r = await axe.run({ resultTypes: ['violations'] });
      return r.violations.map((v: Violation) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target })),
      }));
    });
  }

  /** One cold load of `url` (cache off) on Slow 4G with a 4× slower CPU: its first contentful paint. */
  async function firstContentfulPaint(token: string | null, url: string): Promise<number> {
    const p = await page(token, 'zh');
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await p.goto(`${base}${url}`, { waitUntil: 'load' });
    const fcp = await p.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const done = (e?: PerformanceEntry) => e && resolve(e.startTime);
          done(performance.getEntriesByName('first-contentful-paint')[0]);
          new PerformanceObserver((l) =>
            done(l.getEntriesByName('first-contentful-paint')[0]),
          ).observe({
            type: 'paint',
            buffered: true,
          });
        }),
    );
    await p.context().close();
    return fcp;
  }

  beforeAll(async () => {
    const webDist = ensureWebBuild();
    t = await startTestApp({ AUTH_DEV_LOGIN: 'true', WEB_DIST_DIR: webDist });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await launchChromium();

    const office = await createOffice(t, [regionCode], '杭州市西湖区市场监督管理局');
    officeId = office.id;
    regulator = bearer(t.token({ role: 'regulator', sub: 'officer-a11y', officeId }));
    shop = await createShop(t, regionCode);
    open = await ticketIn(t, shop, 'pending_offer');
    escalated = await ticketIn(t, shop, 'escalated');
    settling = await ticketIn(t, shop, 'settling');
    mediating = await ticketIn(t, shop, 'mediating', { regulator });
    const duty = bearer(t.token({ role: 'regulator', sub: 'officer-duty', officeId }));
    const decline = async (): Promise<Ticket> => {
      const tk = await ticketIn(t, shop, 'escalated');
      await t.http
        .post(`/v1/complaints/${tk.id}/decline`)
        .set(duty)
        .send({ reason: 'no_clear_claim' })
        .expect(200);
      return tk;
    };
    declined = await decline();
    appealed = await decline();
    await t.http
      .post(`/v1/complaints/${appealed.id}/appeal`)
      .set(appealed.consumer)
      .send({ reason: 'The receipt shows the defect was reported on the day of purchase.' })
      .expect(200);
    // Another bill of the same consumer, not yet complained about (payerId without its provider).
    const receipt = await createReceipt(t, {
      accountId: shop.accountId,
      payer: open.consumerSub.slice(open.consumerSub.indexOf(':') + 1),
    });
    freshReceiptId = receipt.id;
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  const pages = (): {
    role: string;
    token: string | null;
    path: string;
    ready: string;
    click?: string | string[];
  }[] => {
    const consumer = tokenOf(open.consumer);
    const merchant = tokenOf(shop.staff);
    const officer = tokenOf(regulator);
    return [
      { role: 'anonymous', token: null, path: '/app/', ready: 'main h1' },
      { role: 'consumer', token: consumer, path: '/app/bills', ready: 'main h1' },
      {
        role: 'consumer',
        token: consumer,
        path: `/app/bills/${freshReceiptId}/resolve`,
        ready: 'main form',
      },
      { role: 'consumer', token: consumer, path: `/app/tickets/${open.id}`, ready: 'main h1' },
      {
        role: 'consumer',
        token: tokenOf(declined.consumer),
        path: `/app/tickets/${declined.id}`,
        // The Appeal card, opened: its form is audited too.
        ready: '[data-testid="appeal"]',
        click: '[data-testid="appeal"]',
      },
      {
        role: 'consumer',
        token: tokenOf(settling.consumer),
        path: `/app/tickets/${settling.id}`,
        // The Settlement card with its "not received" form opened.
        ready: '[data-testid="settlement-dispute"]',
        click: '[data-testid="settlement-dispute"]',
      },
      {
        role: 'consumer',
        token: consumer,
        path: `/app/tickets/${open.id}`,
        // "Accept offer" asks once more: the inline confirmation step is audited.
        ready: '[data-testid="accept-offer"]',
        click: '[data-testid="accept-offer"]',
      },
      { role: 'merchant', token: merchant, path: `/app/tickets/${settling.id}`, ready: 'main h1' },
      { role: 'merchant', token: merchant, path: '/app/inbox', ready: 'main h1' },
      { role: 'merchant', token: merchant, path: `/app/tickets/${open.id}`, ready: 'main h1' },
      { role: 'merchant', token: merchant, path: '/app/stats', ready: 'main h1' },
      { role: 'regulator', token: officer, path: '/app/queue', ready: 'main h1' },
      {
        role: 'regulator',
        token: officer,
        path: `/app/tickets/${escalated.id}`,
        ready: 'main h1',
      },
      {
        role: 'regulator',
        token: officer,
        path: `/app/tickets/${escalated.id}`,
        // The deadline extension form, sent empty: its error summary.
        ready: '[data-testid="extend"]',
        click: ['[data-testid="extend"]', '[data-testid="extend-submit"]'],
      },
      {
        role: 'regulator',
        token: officer,
        path: `/app/tickets/${appealed.id}`,
        ready: '[data-testid="appeal-decide"]',
      },
      {
        role: 'regulator',
        token: officer,
        path: `/app/tickets/${mediating.id}`,
        // The outcome form sent empty (its error), then "agreement" without its text (that error).
        ready: '[data-testid="record-outcome"]',
        click: [
          '[data-testid="record-outcome"]',
          'input[name="outcome"][value="agreement"]',
          '[data-testid="record-outcome"]',
        ],
      },
      {
        role: 'regulator',
        token: officer,
        path: `/app/tickets/${mediating.id}`,
        // A failed mediation, at its confirmation step.
        ready: '[data-testid="record-outcome"]',
        click: ['input[name="outcome"][value="failed"]', '[data-testid="record-outcome"]'],
      },
      { role: 'regulator', token: officer, path: '/app/stats', ready: 'main h1' },
    ];
  };

  it.each(['zh', 'en'] as const)(
    'every page of every role has no axe-core violation (%s)',
    async (lang) => {
      const found: string[] = [];
      for (const pg of pages()) {
        const p = await page(pg.token, lang, pg.role === 'consumer' ? PHONE : DESKTOP);
        await p.goto(`${base}${pg.path}`);
        await p.locator(pg.ready).first().waitFor();
        for (const sel of [pg.click ?? []].flat()) await p.locator(sel).first().click();
        // Let data-driven parts (lists, charts, countdowns) render before the audit.
        await p.waitForLoadState('networkidle');
        expect(await p.title()).toMatch(/和解 Hejie$/);
        for (const v of await violations(p)) {
          found.push(
            `${pg.role} ${pg.path}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes
              .slice(0, 3)
              .map((n) => n.target.join(' '))
              .join(', ')}`,
          );
        }
        await p.context().close();
      }
      expect(found).toEqual([]);
    },
    300_000,
  );

  it.each([
    ['the sign-in page', null, '/app/'],
    ['a ticket deep link', 'consumer', 'ticket'],
  ])(
    '%s paints within 1.8 s on Slow 4G with a 4× slower CPU',
    async (_name, who, path) => {
      const token = who ? tokenOf(open.consumer) : null;
      const url = path === 'ticket' ? `/app/tickets/${open.id}` : path;
      // The best of up to three loads: the suite shares two CPUs with other Jest workers, and a
      // paint delayed by a neighbour is noise; a heavier bundle or a slower first render is late
      // in every load and still fails.
      const figures: number[] = [];
      while (figures.length < 3 && !figures.some((f) => f < FCP_BUDGET_MS)) {
        figures.push(await firstContentfulPaint(token, url));
      }
      const fcp = Math.min(...figures);
      // Printed so a run records the figures, not only the verdict.
      process.stdout.write(
        `first contentful paint, ${url} on Slow 4G ×4 CPU: ${figures.map(Math.round).join(', ')} ms\n`,
      );
      expect(fcp).toBeLessThan(FCP_BUDGET_MS);
    },
    120_000,
  );

  it('splits the bundle by route, serves it precompressed and publishes no source map', async () => {
    const html = await fetch(`${base}/app/`).then((r) => r.text());
    const entry = /src="(\/app\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    expect(entry).toBeDefined();
    const res = await fetch(`${base}${entry}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('vary')).toMatch(/accept-encoding/i);
    const code = await fetch(`${base}${entry}`, {
      headers: { 'accept-encoding': 'identity' },
    }).then((r) => r.text());
    // Chart.js is in the statistics page's chunk only.
    expect(code).not.toMatch(/Chart\.register|chartjs/i);
    expect(code).not.toMatch(/sourceMappingURL/);
    expect((await fetch(`${base}${entry}.map`)).status).toBe(404);
  });
});
