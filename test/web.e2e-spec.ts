/*
 * The dashboards in a real browser (headless Debian Chromium driven by playwright-core) against
 * the real API on a real port: a consumer initiates a resolution from My bills, the merchant sees
 * it arrive in the inbox without reloading (server-sent events) and makes an offer, the consumer
 * accepts it (resolved); another ticket is escalated and the regulator accepts it. Screenshots of
 * each page go to test-artifacts/screenshots/, or to SCREENSHOTS_DIR (`SCREENSHOTS_DIR=docs/screenshots`
 * refreshes the ones README.md shows, so an ordinary test run leaves the tracked images alone).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import { get as httpGet } from 'node:http';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { StatsService } from '../libs/complaints/src/stats/stats.service';
import { bearer, startTestApp } from './helpers/test-app';
import type { TestApp } from './helpers/test-app';
import { ROOT, ensureChromium, ensureWebBuild, launchChromium } from './helpers/browser';
import { createMerchant, createStore, uniqueAccount } from './factories/directory.factory';
import { alipayParams, sendAlipay } from './factories/receipts.factory';
import { createOffice, createReceipt } from './factories/complaint.factory';
import Fastify from 'fastify';
import { registerWebApp } from '../apps/api/src/web/serve-web';
import { redactStreamToken, streamTicketOf } from '../apps/api/src/stream/redact-token';

const SHOTS = process.env.SCREENSHOTS_DIR
  ? resolve(ROOT, process.env.SCREENSHOTS_DIR)
  : join(ROOT, 'test-artifacts', 'screenshots');
const CONSUMER = 'alipay:2088000000000001';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };

/** Shanghai wall-clock time as Alipay writes it ("2026-11-23 18:15:00"). */
function shanghai(d: Date): string {
  const s = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
}

interface StreamEvent {
  type: string;
  data: any;
}

/** A raw server-sent-events client (what EventSource does), to test GET /v1/stream itself. */
function openStream(url: string) {
  const events: StreamEvent[] = [];
  const waiters: (() => void)[] = [];
  let req: ClientRequest;
  const opened = new Promise<{ status: number; contentType: string }>((resolve, reject) => {
    req = httpGet(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']) });
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (!data.length) continue;
          const text = data.join('\n');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          events.push({ type, data: parsed });
          waiters.splice(0).forEach((w) => w());
        }
      });
    });
    req.on('error', reject);
  });
  const next = async (pred: (e: StreamEvent) => boolean, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return { opened, events, next, close: () => req.destroy() };
}

describe('dashboards in the browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  // The demo consumer (the sign-in page lists it): shared by the tests, which tell their own
  // bills apart by id. Merchants, stores and offices are each test's own (newShop).
  let consumer: { Authorization: string };
  const consoleErrors: string[] = [];
  let finished = false;

  async function open(viewport: { width: number; height: number }): Promise<Page> {
    const ctx = await browser.newContext({
      viewport,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    return page;
  }

  /** A full-page screenshot from the top (so the sticky header sits where it belongs). */
  async function shot(page: Page, name: string) {
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  /** A receipt paid by the demo consumer through the Alipay route, `hoursAgo` hours ago. */
  async function alipayReceipt(accountId: string, subject: string, yuan: string, hoursAgo: number) {
    const params = alipayParams({
      buyer_id: CONSUMER.slice('alipay:'.length),
      seller_id: accountId,
      total_amount: yuan,
      receipt_amount: yuan,
      subject,
      gmt_create: shanghai(new Date(Date.now() - hoursAgo * 3600_000 - 5000)),
      gmt_payment: shanghai(new Date(Date.now() - hoursAgo * 3600_000)),
    });
    const res = await sendAlipay(t, params);
    expect(res.status).toBe(200);
    const list = await t.http.get('/v1/receipts?limit=100').set(consumer);
    const r = list.body.items.find((x: { tradeNo: string }) => x.tradeNo === params.trade_no);
    expect(r).toBeDefined();
    return r as { id: string };
  }

  /**
   * A merchant of the calling test's own, with a store in `regionCode` taking Alipay and a POS
   * account, and its staff. Region codes: 33019x and 33018x (each with its test's own office),
   * 33016x (none); no other suite uses them.
   */
  async function newShop(merchantName: string, regionCode: string) {
    const merchant = await createMerchant(t, { name: merchantName });
    const alipayAccount = uniqueAccount('2088');
    const posAccount = uniqueAccount('pos');
    await createStore(t, merchant.id, {
      name: `${merchantName.slice(0, 4)} 北山街店`,
      address: '杭州市西湖区北山街32号',
      regionCode,
      paymentAccounts: [
        { provider: 'alipay', accountId: alipayAccount },
        { provider: 'sunmi-pos', accountId: posAccount },
      ],
    });
    const staff = bearer(
      t.token({ role: 'merchant', sub: `staff@${merchant.id}`, merchantId: merchant.id }),
    );
    return { merchant, staff, alipayAccount, posAccount };
  }
  const region = (tens: number) => `3301${tens + Math.floor(Math.random() * 10)}`;

  /** A ticket of another consumer, through the API, to fill the inbox and the queue. */
  async function otherTicket(
    staff: { Authorization: string },
    accountId: string,
    subject: string,
    description: string,
    then: string[],
  ) {
    const receipt = await createReceipt(t, { accountId, subject, amountMinor: 5900 });
    const who = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
    const created = await t.http
      .post('/v1/complaints')
      .set(who)
      .send({
        receiptId: receipt.id,
        category: 'service',
        demand: { type: 'apology' },
        description,
      });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    for (const step of then) {
      const res =
        step === 'reply'
          ? await t.http
              .post(`/v1/complaints/${id}/messages`)
              .set(staff)
              .send({ body: '您好，我们正在核实，请稍候。' })
          : await t.http
              .post(`/v1/complaints/${id}/escalate`)
              .set(who)
              .send({ reason: '商家的答复无法接受。' });
      expect(res.status).toBeLessThan(300);
    }
    return id;
  }

  beforeAll(async () => {
    ensureChromium();
    const webDist = ensureWebBuild();
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({
      AUTH_DEV_LOGIN: 'true',
      WEB_DIST_DIR: webDist,
      STREAM_POLL_INTERVAL_MS: '250',
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await launchChromium();
    consumer = bearer(t.token({ role: 'consumer', sub: CONSUMER }));
  }, 180_000);

  // Each test's pages and console errors are its own: none of them outlives its test.
  beforeEach(() => {
    finished = false;
    consoleErrors.length = 0;
  });
  // On failure, what each page showed (test-artifacts/ is git-ignored); then the pages close.
  afterEach(async () => {
    if (!finished) {
      const dir = join(ROOT, 'test-artifacts', 'web');
      mkdirSync(dir, { recursive: true });
      let i = 0;
      for (const ctx of contexts)
        for (const p of ctx.pages())
          await p
            .screenshot({ path: join(dir, `page-${i++}.png`), fullPage: true })
            .catch(() => undefined);
      if (consoleErrors.length)
        console.warn(`browser console errors:\n${consoleErrors.join('\n')}`);
    }
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  it('consumer → merchant → consumer (resolved); escalation → regulator (mediating)', async () => {
    const regionCode = region(90);
    const office = await createOffice(t, [regionCode], '杭州市西湖区市场监督管理局');
    const { merchant, staff, alipayAccount, posAccount } = await newShop(
      '西湖龙井茶庄有限公司',
      regionCode,
    );
    const receipts = {
      teaware: await alipayReceipt(alipayAccount, '手工紫砂壶 西施壶', '368.00', 30),
      snack: await alipayReceipt(alipayAccount, '桂花糕 礼盒', '46.00', 8),
      tea: await alipayReceipt(alipayAccount, '西湖龙井 明前特级 250g', '128.00', 2),
    };
    // Some company in the merchant's inbox and the office's queue.
    const others = [
      ['龙井茶 散装 100g', '店员态度很差，结账时多收了包装费。', ['reply']],
      ['茶点套餐', '套餐里的点心不新鲜，吃了以后肚子不舒服。', []],
      ['碧螺春 200g', '买到的茶叶受潮结块，要求退货商家不同意。', ['reply', 'escalate']],
    ] as const;
    for (const [subject, description, then] of others) {
      await otherTicket(staff, posAccount, subject, description, [...then]);
    }

    // ---------------------------------------------------------------- sign-in (demo mode)
    const c = await open(PHONE);
    await c.goto(`${base}/`);
    expect(c.url()).toBe(`${base}/app/`);
    await c.locator('[data-testid="merchants"] button', { hasText: merchant.creditCode }).waitFor();
    await shot(c, 'sign-in');
    await c.locator('[data-testid="consumers"] button', { hasText: CONSUMER }).click();

    // ---------------------------------------------------------------- My bills
    await c.getByRole('heading', { name: '我的账单' }).waitFor();
    await c.getByText('西湖龙井 明前特级 250g').waitFor();
    // Newest first (the other tests' bills of this consumer may sit among them).
    const mine = new Set(Object.values(receipts).map((r) => r.id));
    const listed = await c
      .locator('li[data-receipt]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-receipt')));
    expect(listed.filter((id) => mine.has(id!))).toEqual([
      receipts.tea.id,
      receipts.snack.id,
      receipts.teaware.id,
    ]);
    expect(await c.locator(`li[data-receipt="${receipts.tea.id}"] .money`).textContent()).toBe(
      '¥128.00',
    );
    await shot(c, 'consumer-bills');

    // The merchant's inbox is open before the complaint exists.
    const m = await open(DESKTOP);
    await m.goto(`${base}/app/`);
    await m.locator('[data-testid="merchants"] button', { hasText: merchant.creditCode }).click();
    await m.getByRole('heading', { name: '投诉工单' }).waitFor();
    await m.locator('[data-live="live"]').waitFor();
    // The two open tickets of other consumers (the escalated one has left the inbox).
    await m.locator('tbody tr').nth(1).waitFor();
    expect(await m.locator('tbody tr').count()).toBe(2);

    // ---------------------------------------------------------------- initiate resolution
    await c.getByRole('button', { name: '发起和解：西湖龙井 明前特级 250g' }).click();
    await c.getByRole('heading', { name: '发起和解' }).waitFor();
    await c.getByLabel('问题类型 *').selectOption('not_as_described');
    // A refund is offered at the amount paid (a full refund) until the consumer says otherwise.
    expect(await c.getByLabel('您的诉求 *').inputValue()).toBe('refund');
    expect(await c.getByLabel('金额（CNY）*').inputValue()).toBe('128.00');
    await c.getByLabel('您的诉求 *').selectOption('partial_refund');
    await c.getByLabel('金额（CNY）*').fill('64.00');
    await c
      .getByLabel('情况说明 *')
      .fill('包装上写明前特级，收到的茶叶碎末很多，明显不是特级，与描述不符。');
    await c.getByLabel('联系电话（选填）').fill('13812345678');
    await shot(c, 'consumer-initiate');
    await c.getByRole('button', { name: '提交给商家' }).click();

    // ---------------------------------------------------------------- ticket: escalation not yet
    const ticket = c.locator('article.ticket[data-status="awaiting_merchant"]');
    await ticket.waitFor();
    const ticketId = await ticket.getAttribute('data-ticket');
    const number = (await c.locator('.ticket-number').textContent())!.trim();
    expect(number).toMatch(/^HJ-\d{6}-\d+$/);
    expect(await c.getByTestId('escalate').isDisabled()).toBe(true);
    expect(await c.getByTestId('escalate-why').textContent()).toContain('可于');
    await c.locator('[data-testid="verify"][data-valid="true"]').waitFor();
    await shot(c, 'consumer-ticket');

    // ---------------------------------------------------------------- merchant: live inbox
    const row = m.locator(`tr[data-number="${number}"]`);
    await row.waitFor({ timeout: 5000 }); // no reload: it came over the event stream
    expect(await m.locator('tbody tr').count()).toBe(3);
    expect(await row.getAttribute('class')).toContain('row-fresh');
    // …and said by the inbox's polite live region, for those who do not see the row appear.
    const announcer = m.getByTestId('inbox-announcer');
    expect(await announcer.getAttribute('aria-live')).toBe('polite');
    expect(await announcer.textContent()).toContain(number);
    await shot(m, 'merchant-inbox');
    await row.getByRole('link', { name: number }).click();
    await m.locator(`article.ticket[data-ticket="${ticketId}"]`).waitFor();
    expect(await m.getByText('138****5678').count()).toBe(1); // the phone, masked
    await m.getByLabel('方案类型').selectOption('partial_refund');
    // A wrong amount: the form's error summary (role=alert) names it and links to the field.
    const amountInput = m.locator('input[name="offer-amount"]');
    await amountInput.fill('abc');
    await m.getByRole('button', { name: '发送方案' }).click();
    const offerErrors = m.getByTestId('error-summary');
    expect(await offerErrors.getAttribute('role')).toBe('alert');
    await offerErrors.getByRole('link').click();
    expect(await amountInput.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await amountInput.getAttribute('aria-invalid')).toBe('true');
    await amountInput.fill('64.00');
    await m
      .locator('textarea[name="offer-note"]')
      .fill('非常抱歉！退还一半货款 ¥64，并补寄一份新茶试饮装。');
    await m.getByRole('button', { name: '发送方案' }).click();
    await m.locator('[data-offer-status="pending"]').waitFor();
    await m.locator('article.ticket[data-status="in_negotiation"]').waitFor();
    await shot(m, 'merchant-ticket');

    // ---------------------------------------------------------------- consumer accepts (live)
    await c.getByTestId('accept-offer').waitFor({ timeout: 5000 }); // no reload either
    expect(await c.getByTestId('escalate').isDisabled()).toBe(false); // the merchant answered
    // Escalating now would cancel the pending offer: the form says so before anything is sent.
    await c.getByTestId('escalate').click();
    expect(await c.getByTestId('escalate-cancels-offer').textContent()).toContain('撤销');
    await c.getByTestId('escalate').click(); // closed again: nothing sent
    expect(await c.getByTestId('escalate-cancels-offer').count()).toBe(0);
    await c.getByTestId('accept-offer').click();
    // A final action asks once more: nothing is sent until the inline confirmation.
    const confirmAccept = c.getByTestId('confirm-accept-offer');
    await confirmAccept.waitFor();
    expect(await confirmAccept.evaluate((el) => el === document.activeElement)).toBe(true);
    await c.getByRole('group', { name: '确定接受此方案吗？' }).waitFor();
    expect((await t.http.get(`/v1/complaints/${ticketId}`).set(consumer)).body.status).toBe(
      'in_negotiation',
    );
    await shot(c, 'consumer-accept-confirm');
    await confirmAccept.click();
    // Accepting leads to settling: the settlement card with its countdown, then one tap.
    await c.locator('article.ticket[data-status="settling"]').waitFor();
    // The confirmation left with the offer's buttons: focus is on the result, not on <body>.
    await c.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'flash');
    await c.locator('[data-offer-status="accepted"]').waitFor();
    await c.getByTestId('settlement-confirm').waitFor();
    expect(await c.getByTestId('escalate').count()).toBe(0);
    await shot(c, 'consumer-settling');
    await c.getByTestId('settlement-confirm').click();
    await c.locator('article.ticket[data-status="resolved"]').waitFor();
    await c.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'flash');
    // The server's `actions` drive the buttons: a resolved ticket offers the consumer nothing.
    expect(await c.locator('.actions button, [data-testid="settlement-confirm"]').count()).toBe(0);
    expect(await c.locator('#composer-body').count()).toBe(0);
    await shot(c, 'consumer-resolved');
    // On a desktop the facts grid breaks no short value mid-word ("Exchan/ge", "CN¥11/1.00").
    await c.setViewportSize(DESKTOP);
    const brokenWords = await c.evaluate(() => {
      const broken: string[] = [];
      for (const dd of Array.from(document.querySelectorAll('.fact dd'))) {
        const walker = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const text = n.textContent ?? '';
          for (const m of text.matchAll(/[\w¥$€.,:%/-]{2,24}/g)) {
            if (n.parentElement?.closest('code')) continue; // hashes may break anywhere
            const range = document.createRange();
            range.setStart(n, m.index);
            range.setEnd(n, m.index + m[0].length);
            const tops = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top)));
            if (tops.size > 1) broken.push(m[0]);
          }
        }
      }
      return broken;
    });
    expect(brokenWords).toEqual([]);
    await shot(c, 'consumer-resolved-desktop');
    await c.setViewportSize(PHONE);
    const resolved = await t.http.get(`/v1/complaints/${ticketId}`).set(consumer);
    expect(resolved.body.status).toBe('resolved');

    // ---------------------------------------------------------------- escalation
    const created = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .send({
        receiptId: receipts.teaware.id,
        category: 'quality',
        demand: { type: 'refund', amountMinor: 36800 },
        description: '紫砂壶第一次使用壶嘴就出现裂纹，要求全额退款。',
        contactPhone: '13912345678',
      });
    expect(created.status).toBe(201);
    const escId: string = created.body.id;
    const reply = await t.http
      .post(`/v1/complaints/${escId}/messages`)
      .set(staff)
      .send({ body: '手工壶出现细纹属正常现象，不影响使用，不予退款。' });
    expect(reply.status).toBe(201);
    await c.getByRole('navigation').getByRole('link', { name: '我的账单' }).click();
    await c
      .locator(`li[data-receipt="${receipts.teaware.id}"]`)
      .getByRole('link', { name: '查看进度' })
      .click();
    await c
      .locator(`article.ticket[data-ticket="${escId}"][data-status="in_negotiation"]`)
      .waitFor();
    // Evidence: a photo from the phone's camera (with GPS in its EXIF) goes onto the ticket.
    const photo = await sharp({
      create: { width: 320, height: 240, channels: 3, background: '#8a6d4b' },
    })
      .jpeg()
      .withExif({
        IFD0: { Make: 'DemoPhone', Model: 'P1' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '30/1 15/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '120/1 9/1 0/1',
        },
      })
      .toBuffer();
    await c.getByTestId('evidence-file').setInputFiles({
      name: '壶嘴裂纹.jpg',
      mimeType: 'image/jpeg',
      buffer: photo,
    });
    await c.getByTestId('evidence-upload').click();
    await c.locator('.evidence-item', { hasText: '壶嘴裂纹.jpg' }).waitFor();
    await c.locator('.tl-attachment_added').waitFor();

    await c.getByTestId('escalate').click();
    await c.getByLabel('升级原因 *').fill('商家拒绝退款，壶身裂纹明显影响使用。');
    await c.getByRole('button', { name: '确认升级' }).click();
    await c.locator('article.ticket[data-status="escalated"]').waitFor();
    // What happens next: the office by name, and the complainant details it needs.
    expect(await c.getByTestId('next-office').textContent()).toContain(office.name);
    // The acceptance deadline with the name of the rule set it was counted under (issue 15).
    expect(await c.locator('.deadline [data-testid="rule-set"]').textContent()).toBe(
      '12315 投诉处理办法',
    );
    expect(await c.locator('.order-facts').textContent()).not.toContain('行政区划');
    const form = c.getByTestId('complainant-form');
    await form.getByLabel('姓名').fill('王小红');
    await form.getByLabel('电话').fill('13912345678');
    await form.getByLabel('地址').fill('浙江省杭州市西湖区文三路100号2幢301室');
    await form.getByRole('button', { name: '提交' }).click();
    await c.getByText('投诉人信息已保存').waitFor();
    await shot(c, 'consumer-escalated');

    // ---------------------------------------------------------------- regulator
    const r = await open(DESKTOP);
    await r.goto(`${base}/app/`);
    await r.locator('[data-testid="officers"] button', { hasText: regionCode }).click();
    await r.getByRole('heading', { name: '受理队列' }).waitFor();
    await r.locator('.lead', { hasText: office.name }).waitFor();
    const escNumber = created.body.number as string;
    const queued = r.locator(`tr[data-number="${escNumber}"]`);
    await queued.waitFor();
    expect(await r.locator('tbody tr').count()).toBe(2);
    // The queue names the rule set next to each running regulator deadline.
    expect(await queued.getByTestId('rule-set').textContent()).toBe('12315 投诉处理办法');
    await shot(r, 'regulator-queue');
    await queued.getByRole('link', { name: escNumber }).click();
    await r.locator(`article.ticket[data-ticket="${escId}"][data-status="escalated"]`).waitFor();
    // ¥368.00 asked back on a ¥368.00 bill: that one is a full refund.
    await r.locator('.facts', { hasText: '全额退款' }).first().waitFor();
    // The store's region for the office (a code GB/T 2260 does not name: the code, once).
    expect(await r.locator('.order-facts').textContent()).toContain(`行政区划${regionCode}`);
    expect(await r.locator('.order-facts').textContent()).not.toContain(
      `${regionCode} ${regionCode}`,
    );
    await r.locator('[data-testid="verify"][data-valid="true"]').waitFor();
    // The case packet, complete, and its PDF (Chinese text, the trail head on every page).
    await r.locator('.case-packet', { hasText: '材料齐全' }).waitFor();
    await r.locator('.evidence-item', { hasText: '壶嘴裂纹.jpg' }).waitFor();
    // The PDF embeds a CJK font: on a loaded machine it takes longer than a click's 10 s.
    const [download] = await Promise.all([
      r.waitForEvent('download', { timeout: 30_000 }),
      r.getByTestId('packet-pdf').click(),
    ]);
    const pdfPath = join(ROOT, 'test-artifacts', `case-packet-${escId}.pdf`);
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await download.saveAs(pdfPath);
    const pdfText = execFileSync('pdftotext', ['-enc', 'UTF-8', pdfPath, '-'], {
      encoding: 'utf8',
    });
    expect(pdfText).toContain(merchant.name);
    expect(pdfText).toContain('王小红');
    await shot(r, 'regulator-packet');
    // Extend the acceptance deadline (listed in the ticket's actions): sent empty, the error
    // summary names both fields; then once, and the button is gone (once per deadline).
    await r.getByTestId('extend').click();
    await r.getByTestId('extend-submit').click();
    const extendErrors = r.getByTestId('error-summary');
    expect(await extendErrors.getByRole('link').count()).toBe(2);
    await extendErrors.getByRole('link').first().click();
    const workdays = r.locator('input[name="workdays"]');
    expect(await workdays.evaluate((el) => el === document.activeElement)).toBe(true);
    await workdays.fill('2');
    await r.getByLabel('延长理由').fill('需要向商家调取进货凭证，核实产品来源。');
    await r.getByTestId('extend-submit').click();
    await r.locator('.deadline-extension', { hasText: '需要向商家调取进货凭证' }).waitFor();
    await r.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'flash');
    expect(await r.getByTestId('extend').count()).toBe(0);
    await r.getByTestId('accept-case').click();
    await r.locator('article.ticket[data-status="mediating"]').waitFor();
    await r.getByText('调解期限', { exact: true }).waitFor();
    await shot(r, 'regulator-ticket');
    const mediating = await t.http.get(`/v1/complaints/${escId}`).set(consumer);
    expect(mediating.body.status).toBe('mediating');
    // One visit, one recorded view (the page follows the stream instead of re-reading).
    const trail = await t.http.get(`/v1/complaints/${escId}/events`).set(consumer);
    // (Readings of the case packet are recorded apart: data.what = 'case_packet'.)
    const views = trail.body.items.filter(
      (e: { type: string; data: { what?: string } }) =>
        e.type === 'regulator_viewed' && e.data.what === undefined,
    );
    expect(views).toHaveLength(1);
    // The consumer's page followed along.
    await c.locator('article.ticket[data-status="mediating"]').waitFor({ timeout: 5000 });

    // ---------------------------------------------------------------- mediation outcome
    // No outcome is preselected; an agreement needs its text; then it asks once more.
    expect(await r.getByLabel('达成调解协议').isChecked()).toBe(false);
    expect(await r.getByLabel('调解不成，终止调解').isChecked()).toBe(false);
    await r.getByTestId('record-outcome').click();
    // The error summary (role=alert) lists the problem and its link moves focus to the field.
    const outcomeErrors = r.getByTestId('error-summary');
    expect(await outcomeErrors.getAttribute('role')).toBe('alert');
    await outcomeErrors.getByRole('link', { name: '请选择调解结果' }).click();
    expect(await r.getByLabel('达成调解协议').evaluate((el) => el === document.activeElement)).toBe(
      true,
    );
    await r.getByLabel('达成调解协议').check();
    await r.getByTestId('record-outcome').click();
    const agreed = r.getByLabel('达成的协议');
    await outcomeErrors.getByRole('link', { name: '达成协议时须写明协议内容' }).waitFor();
    expect(await agreed.getAttribute('aria-invalid')).toBe('true');
    const errId = (await agreed.getAttribute('aria-describedby'))!.split(' ').pop()!;
    expect(await r.locator(`[id="${errId}"]`).textContent()).toBe('达成协议时须写明协议内容');
    await agreed.fill('商家七日内全额退款 ¥368.00。');
    await r.getByTestId('record-outcome').click();
    await r.getByTestId('confirm-outcome').waitFor();
    expect((await t.http.get(`/v1/complaints/${escId}`).set(consumer)).body.status).toBe(
      'mediating',
    );
    await shot(r, 'regulator-outcome-confirm');
    await r.getByTestId('confirm-outcome').click();
    await r.locator('article.ticket[data-status="mediated"]').waitFor();
    // The form is gone (the office may do nothing more): focus went to the result message.
    await r.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'flash');
    expect(await r.getByTestId('record-outcome').count()).toBe(0);
    const mediated = await t.http.get(`/v1/complaints/${escId}`).set(consumer);
    expect(mediated.body.mediationOutcome).toMatchObject({
      outcome: 'agreement',
      settlement: '商家七日内全额退款 ¥368.00。',
    });

    // ---------------------------------------------------------------- statistics
    // There is no worker here, so the rollups only move when another suite's workers drain
    // the outbox. WEB_E2E_DRAIN_STATS=true folds it in from this process, for screenshots with
    // numbers; only when this file runs alone: draining would race the stats suite's workers.
    if (process.env.WEB_E2E_DRAIN_STATS === 'true') {
      const stats = t.app.get(StatsService, { strict: false });
      while ((await stats.drainBatch()) > 0);
    }
    await r.getByRole('navigation').getByRole('link', { name: '统计' }).click();
    // The figures, never the "statistics unavailable" notice (the API answers 404/501/503 then).
    await r.getByTestId('kpis').waitFor();
    expect(await r.getByTestId('stats-unavailable').count()).toBe(0);
    await r.locator('figure.chart canvas').first().waitFor();
    await shot(r, 'regulator-stats');
    await m.getByRole('navigation').getByRole('link', { name: '经营数据' }).click();
    await m.getByTestId('kpis').waitFor();
    expect(await m.getByTestId('stats-unavailable').count()).toBe(0);
    await shot(m, 'merchant-stats');

    // ---------------------------------------------------------------- English
    await c.getByRole('button', { name: 'English' }).click();
    await c
      .getByRole('heading', { name: 'Resolution statistics' })
      .or(c.locator('h1'))
      .first()
      .waitFor();
    await c.getByRole('navigation').getByRole('link', { name: 'My bills' }).click();
    await c.getByRole('heading', { name: 'My bills' }).waitFor();
    expect(await c.locator('html').getAttribute('lang')).toBe('en');
    await shot(c, 'consumer-bills-en');

    expect(consoleErrors).toEqual([]);
    finished = true;
  }, 120_000); // its shop, receipts and tickets included (they were the suite's beforeAll)

  it('appeal: the consumer appeals a decline, another officer overturns it', async () => {
    const regionCode = region(80);
    const office = await createOffice(t, [regionCode], '杭州市上城区市场监督管理局');
    const { staff, alipayAccount } = await newShop('桂花糕点有限公司', regionCode);
    const snack = await alipayReceipt(alipayAccount, '桂花糕 礼盒', '46.00', 8);
    // Declined through the API by one officer of the office…
    const created = await t.http
      .post('/v1/complaints')
      .set(consumer)
      .send({
        receiptId: snack.id,
        category: 'quality',
        demand: { type: 'refund', amountMinor: 3000 },
        description: '桂花糕礼盒开封后发现发霉，要求退款 30 元。',
      });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    await t.http
      .post(`/v1/complaints/${id}/messages`)
      .set(staff)
      .send({ body: '保质期内的产品，不予退款。' })
      .expect(201);
    await t.http
      .post(`/v1/complaints/${id}/escalate`)
      .set(consumer)
      .send({ reason: '商家拒绝处理发霉的食品。' })
      .expect(200);
    const decliner = bearer(
      t.token({ role: 'regulator', sub: 'officer-decliner', officeId: office.id }),
    );
    await t.http
      .post(`/v1/complaints/${id}/decline`)
      .set(decliner)
      .send({ reason: 'no_clear_claim', detail: '未提供照片等证据。' })
      .expect(200);

    // …the consumer appeals from the ticket page…
    const c = await open(PHONE);
    await c.goto(`${base}/app/`);
    await c.locator('[data-testid="consumers"] button', { hasText: CONSUMER }).click();
    await c.getByRole('heading', { name: '我的账单' }).waitFor();
    await c.goto(`${base}/app/tickets/${id}`);
    await c.locator(`article.ticket[data-ticket="${id}"][data-status="declined"]`).waitFor();
    await c.getByTestId('appeal').click();
    await c.getByLabel('申诉理由 *').fill('我补充了发霉的照片和购买凭证，请重新受理。');
    await c.getByRole('button', { name: '提交申诉' }).click();
    await c.locator('article.ticket[data-status="appealed"]').waitFor();
    await c.getByTestId('appeal-pending').waitFor();
    await shot(c, 'consumer-appeal');

    // …and another officer of the office (the dashboard's) overturns it.
    const r = await open(DESKTOP);
    await r.goto(`${base}/app/`);
    await r.locator('[data-testid="officers"] button', { hasText: regionCode }).click();
    await r.getByRole('heading', { name: '受理队列' }).waitFor();
    await r.goto(`${base}/app/tickets/${id}`);
    await r.locator(`article.ticket[data-ticket="${id}"][data-status="appealed"]`).waitFor();
    // ¥30.00 asked back on a ¥46.00 bill: a refund, not a "full refund".
    const demandFact = r.locator('.fact', { hasText: '诉求' }).first();
    expect(await demandFact.textContent()).toMatch(/退款\s*¥30\.00/);
    expect(await demandFact.textContent()).not.toContain('全额');
    await r.getByLabel('撤销原决定').check();
    await r.getByLabel('复核意见（消费者可见）*').fill('补充的照片足以说明问题，重新受理。');
    await shot(r, 'regulator-appeal');
    await r.getByTestId('appeal-decide').click();
    await r.locator('article.ticket[data-status="escalated"]').waitFor();
    await c.locator('article.ticket[data-status="escalated"]').waitFor({ timeout: 5000 });
    const trail = await t.http.get(`/v1/complaints/${id}/events`).set(consumer);
    expect(trail.body.items.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['declined', 'appealed', 'appeal_decided']),
    );
    expect(consoleErrors).toEqual([]);
    finished = true;
  }, 60_000);

  it('serves the app at /app/ beside the untouched API, and streams ticket changes', async () => {
    const { staff, posAccount } = await newShop('龙井茶礼有限公司', region(60));
    // ---------------------------------------------------------------- static files
    const root = await t.http.get('/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/app/');
    // The most 'close' listeners each page's response had at once: Node warns past its
    // getMaxListeners() (10) with MaxListenersExceededWarning. The client-route fallback goes
    // through @fastify/static twice (its wildcard route, then sendFile), each watching the
    // response; serve-web.ts must not add a watcher of its own on top (it made 11).
    const server = t.app.getHttpServer() as Server;
    const closeListeners: Array<[string, number, number]> = [];
    const watch = (req: IncomingMessage, res: ServerResponse) => {
      const seen: [string, number, number] = [req.url ?? '', 0, res.getMaxListeners()];
      closeListeners.push(seen);
      res.on('newListener', (event) => {
        if (event === 'close') seen[1] = Math.max(seen[1], res.listenerCount('close') + 1);
      });
    };
    server.prependListener('request', watch);
    for (const path of ['/app', '/app/', '/app/tickets/some-id', '/app/bills/x/resolve']) {
      const res = await t.http.get(path).set('accept', 'text/html');
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.text).toContain('<div id="root">');
    }
    server.removeListener('request', watch);
    expect(closeListeners).toHaveLength(4);
    expect(closeListeners.filter(([, most, max]) => most > max)).toEqual([]);
    const missing = await t.http.get('/app/assets/missing.js');
    expect(missing.status).toBe(404);
    expect(missing.body.code ?? JSON.parse(missing.text).code).toBe('NOT_FOUND');
    expect((await t.http.get('/v1/no-such-route')).status).toBe(404);
    expect((await t.http.get('/health')).status).toBe(200);
    expect((await t.http.get('/docs-json')).body.paths['/v1/stream']).toBeDefined();
    // No build: the API starts all the same (the function says so and registers nothing).
    const bare = Fastify();
    expect(await registerWebApp(bare, join(ROOT, 'no-such-dir'))).toBe(false);
    await bare.close();

    // ---------------------------------------------------------------- the event stream
    const noToken = await t.http.get('/v1/stream');
    expect(noToken.status).toBe(401);
    expect(noToken.body.code).toBe('UNAUTHENTICATED');
    const badToken = await t.http.get('/v1/stream?ticket=not-a-ticket');
    expect(badToken.status).toBe(401);
    // The token leaves the URL before anything can log it; the controller gets it aside.
    const raw = { url: '/v1/stream?ticket=abc-def&x=1' } as IncomingMessage;
    expect(redactStreamToken(raw)).toBe('/v1/stream?ticket=%5Bredacted%5D&x=1');
    expect(streamTicketOf(raw)).toBe('abc-def');
    // A single-use ticket from the bearer token (EventSource cannot send the header).
    const streamUrl = async (who: { Authorization: string }) => {
      const res = await t.http.post('/v1/stream/ticket').set(who).expect(201);
      return `${base}/v1/stream?ticket=${res.body.ticket}`;
    };

    const mine = openStream(await streamUrl(staff));
    const otherMerchant = openStream(
      await streamUrl(
        bearer(
          t.token({
            role: 'merchant',
            sub: 'staff-x',
            merchantId: '00000000-0000-4000-8000-000000000001',
          }),
        ),
      ),
    );
    try {
      expect(await mine.opened).toEqual({ status: 200, contentType: 'text/event-stream' });
      await otherMerchant.opened;
      expect(await mine.next((e) => e.type === 'ready')).not.toBeNull();
      expect(await otherMerchant.next((e) => e.type === 'ready')).not.toBeNull();

      const receipt = await createReceipt(t, { accountId: posAccount, subject: '龙井茶 礼盒' });
      const payer = bearer(t.token({ role: 'consumer', sub: receipt.payerId }));
      const payerStream = openStream(await streamUrl(payer));
      await payerStream.next((e) => e.type === 'ready');
      const created = await t.http
        .post('/v1/complaints')
        .set(payer)
        .send({
          receiptId: receipt.id,
          category: 'quality',
          demand: { type: 'exchange' },
          description: '礼盒里的茶叶罐有凹痕，要求换货。',
          contactPhone: '13712345678',
        });
      expect(created.status).toBe(201);
      const forMerchant = await mine.next(
        (e) => e.type === 'ticket' && e.data.ticket.id === created.body.id,
      );
      expect(forMerchant?.data.ticket.status).toBe('awaiting_merchant');
      expect(forMerchant?.data.ticket.contactPhone).toBe('137****5678'); // masked, as in REST
      expect(forMerchant?.data.lastEventType).toBe('created');
      const forPayer = await payerStream.next(
        (e) => e.type === 'ticket' && e.data.ticket.id === created.body.id,
      );
      expect(forPayer?.data.ticket.contactPhone).toBe('13712345678');
      payerStream.close();

      await t.http
        .post(`/v1/complaints/${created.body.id}/messages`)
        .set(staff)
        .send({ body: '可以换货，请到店或寄回。' });
      const moved = await mine.next(
        (e) =>
          e.type === 'ticket' &&
          e.data.ticket.status === 'in_negotiation' &&
          e.data.ticket.id === created.body.id,
      );
      expect(moved?.data.lastEventType).toBe('message');
      // Another merchant's staff saw none of it.
      expect(otherMerchant.events.filter((e) => e.type === 'ticket')).toEqual([]);
    } finally {
      mine.close();
      otherMerchant.close();
    }
    finished = true;
  }, 30_000);

  it('Swagger UI and Bull Board work under the CSP; no source maps are built', async () => {
    expect(readdirSync(join(ensureWebBuild(), 'assets')).filter((f) => f.endsWith('.map'))).toEqual(
      [],
    );
    const page = await open(DESKTOP);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/docs`);
    await page.locator('.swagger-ui .info .title', { hasText: 'Hejie API' }).waitFor();
    // The admin's dashboard opens Bull Board through a session (no token in any URL).
    await page.goto(`${base}/app/`);
    await page.locator('[data-testid="admins"] button').first().click();
    await page.getByTestId('job-queues').click();
    await page.waitForURL(`${base}/admin/queues`);
    await page.getByText('deadlines').first().waitFor();
    const cookies = await page.context().cookies(`${base}/admin/queues`);
    const session = cookies.find((c) => c.name === 'hejie_admin_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin/queues' });
    // Bull Board's Google Fonts stylesheet is blocked on purpose; nothing else may be.
    expect(errors.filter((e) => !e.includes('fonts.googleapis.com'))).toEqual([]);
    finished = true;
  }, 60_000);
});
