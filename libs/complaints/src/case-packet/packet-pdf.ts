import { existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import PDFDocument from 'pdfkit';
import type { CasePacket } from './case-packet.service';

/**
 * Debian's fonts-noto-cjk: a TrueType collection, so the face is named by its PostScript name.
 * The font is embedded (subset) with a ToUnicode map, so the Chinese text can be selected,
 * searched and extracted (pdftotext).
 */
export const CJK_FONT_FILE = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
export const CJK_FONT_FAMILY = 'NotoSansCJKsc-Regular';

/**
 * fontkit (pdfkit's own font engine; it has no type definitions): the CJK face is read and
 * parsed once per process and handed to every document, instead of re-reading the 19 MB
 * collection and re-parsing its tables for each PDF (about 1 s and 30 MB each).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fontkit = require('fontkit') as { create(data: Uint8Array, postscriptName?: string): object };
const parsedFonts = new Map<string, object>();
function cjkFace(file: string): object {
  let face = parsedFonts.get(file);
  if (!face) {
    face = fontkit.create(readFileSync(file), CJK_FONT_FAMILY);
    parsedFonts.set(file, face);
  }
  return face;
}

const CATEGORY_ZH: Record<string, string> = {
  quality: '质量问题',
  not_as_described: '货不对板',
  overcharge: '多收费',
  refund: '退款',
  service: '服务问题',
  safety: '安全问题',
  fraud: '欺诈',
  other: '其他',
};
const DEMAND_ZH: Record<string, string> = {
  refund: '退款',
  partial_refund: '部分退款',
  return: '退货',
  exchange: '换货',
  repair: '维修',
  compensation: '赔偿',
  apology: '赔礼道歉',
  other: '其他',
};

const yuan = (minor: number | null | undefined, currency = 'CNY') =>
  minor === null || minor === undefined ? '—' : `${(minor / 100).toFixed(2)} ${currency}`;

/**
 * The case packet as a PDF (A4). The trail's head hash is printed in every page's header, so a
 * printed page can be matched against the trail (GET …/events/verify) and a checkpoint.
 */
export function renderPacketPdf(p: CasePacket, fontFile = CJK_FONT_FILE): Readable {
  if (!existsSync(fontFile)) {
    throw new Error(
      `case packet PDF: font ${fontFile} is missing (apt-get install fonts-noto-cjk)`,
    );
  }
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 72, bottom: 60, left: 56, right: 56 },
    bufferPages: true,
    info: { Title: `投诉案件材料 Case packet ${p.number}`, Creator: 'Hejie 和解' },
  });
  // pdfkit takes a fontkit font object as a font source (PDFFontFactory.open).
  doc.registerFont('cjk', cjkFace(fontFile) as unknown as string);
  doc.font('cjk');

  const heading = (zh: string, en: string) => {
    doc.moveDown(0.8).fontSize(13).fillColor('#000').text(`${zh}  ${en}`);
    doc.moveDown(0.2).fontSize(10);
  };
  const line = (label: string, value: string) => {
    doc.fontSize(10).fillColor('#555').text(`${label}：`, { continued: true });
    doc.fillColor('#000').text(value || '—');
  };

  doc.fontSize(18).text('消费者投诉案件材料', { align: 'center' });
  doc.fontSize(11).fillColor('#555').text(`Case packet · 工单 ${p.number}`, { align: 'center' });
  doc.fillColor('#000');
  if (!p.complete) {
    doc
      .moveDown(0.5)
      .fontSize(10)
      .fillColor('#b00020')
      .text(`材料不完整 (incomplete)：${p.missing.join(', ')}`);
    doc.fillColor('#000');
  }

  heading('投诉人', 'Complainant');
  line('姓名', p.complainant?.realName ?? '');
  line('电话', p.complainant?.phone ?? '');
  line('地址', p.complainant?.address ?? '');

  heading('被投诉人', 'Respondent');
  line('名称', p.respondent.name);
  line('统一社会信用代码', p.respondent.creditCode);
  line('门店', p.respondent.storeName);
  line('地址', p.respondent.address);

  heading('投诉请求', 'Request');
  line('类别', `${CATEGORY_ZH[p.request.category] ?? p.request.category} (${p.request.category})`);
  line(
    '诉求',
    `${DEMAND_ZH[p.request.demand.type] ?? p.request.demand.type} (${p.request.demand.type})` +
      (p.request.demand.amountMinor !== null
        ? ` ${yuan(p.request.demand.amountMinor, p.facts.order.currency)}`
        : ''),
  );

  heading('事实与理由', 'Facts');
  doc.fontSize(10).text(p.facts.description);
  doc.moveDown(0.4);
  const o = p.facts.order;
  line('交易号', `${o.tradeNo} (${o.provider})`);
  line('金额', yuan(o.amountMinor, o.currency));
  line('支付时间', o.paidAt);
  line('商品', o.subject);
  line('门店', `${o.storeName} ${o.storeAddress}`);
  line('投诉时间', p.facts.createdAt);

  heading('证据', 'Evidence');
  if (!p.attachments.length) doc.fontSize(10).text('无 (none)');
  for (const a of p.attachments) {
    doc.fontSize(10).text(`${a.filename} (${a.contentType})`);
    doc.fontSize(8).fillColor('#555').text(`sha256 ${a.sha256}`).fillColor('#000');
  }

  heading('处理记录', 'Trail');
  line('事件数', String(p.trail.length));
  line('链头哈希', p.trail.headHash ?? '');
  line('受理机构', p.office.name ?? '');
  line('生成时间', p.generatedAt);

  // Every page: the ticket and the trail's head hash in the header, the page number below.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const { left } = doc.page.margins;
    const width = doc.page.width - left - doc.page.margins.right;
    doc.fontSize(7).fillColor('#555');
    doc.text(`工单 ${p.number} · 链头哈希 head ${p.trail.headHash ?? '—'}`, left, 30, {
      width,
      lineBreak: false,
    });
    doc.text(`${i + 1} / ${range.count}`, left, 42, { width, align: 'right', lineBreak: false });
  }
  doc.end();
  return doc as unknown as Readable;
}
