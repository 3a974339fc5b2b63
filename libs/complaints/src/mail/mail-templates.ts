import { formatMinor } from '@app/shared';
import type { TicketView } from '../complaint.types';

/** The merchant mails: why a merchant hears from Hejie without a webhook. */
export const MAIL_KINDS = [
  'new_ticket',
  'respond_reminder',
  'awaiting_refund',
  'escalation',
] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export interface RenderedMail {
  subject: string;
  text: string;
}

/** Asia/Shanghai wall-clock time for a mail ("2026-11-25 18:00"). */
function shanghai(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

const money = (minor: number | null | undefined, currency: string) =>
  minor === null || minor === undefined ? '—' : `${currency} ${formatMinor(minor)}`;

/** One mail in Chinese then English (both in every mail: no guessing the reader's language). */
export function renderMail(kind: MailKind, t: TicketView): RenderedMail {
  const cur = t.order.currency;
  const head = `${t.number} · ${t.order.subject} · ${money(t.order.amountMinor, cur)}`;
  const bodies: Record<MailKind, [string, string, string, string]> = {
    new_ticket: [
      `【和解】新投诉工单 ${t.number}`,
      `您有一张新的消费投诉工单：${head}\n请在 ${shanghai(t.merchantRespondBy)}（北京时间）前回复，逾期将自动升级至市场监管部门。`,
      `New complaint ${t.number}`,
      `A consumer opened a complaint: ${head}\nPlease answer by ${shanghai(t.merchantRespondBy)} (Beijing time); unanswered, it is escalated to the market regulator.`,
    ],
    respond_reminder: [
      `【和解】工单 ${t.number} 将在24小时内到期`,
      `工单 ${head} 尚未回复，回复期限为 ${shanghai(t.merchantRespondBy)}（北京时间）。`,
      `Complaint ${t.number} is due within 24 hours`,
      `Complaint ${head} has no answer yet; it is due at ${shanghai(t.merchantRespondBy)} (Beijing time).`,
    ],
    awaiting_refund: [
      `【和解】消费者已接受方案，请于 ${shanghai(t.settlement?.settleBy)} 前履行`,
      `工单 ${head}：消费者已接受您的方案（${t.settlement?.type ?? ''} ${money(t.settlement?.amountMinor, cur)}）。请在 ${shanghai(t.settlement?.settleBy)}（北京时间）前完成退款；平台收到支付机构的退款通知后自动结案，未履行将升级至市场监管部门。`,
      `The consumer accepted your offer: carry it out by ${shanghai(t.settlement?.settleBy)}`,
      `Complaint ${head}: the consumer accepted your offer (${t.settlement?.type ?? ''} ${money(t.settlement?.amountMinor, cur)}). Refund by ${shanghai(t.settlement?.settleBy)} (Beijing time); the ticket closes by itself when the payment provider reports the refund, and is escalated to the market regulator otherwise.`,
    ],
    escalation: [
      `【和解】工单 ${t.number} 已升级至市场监管部门`,
      `工单 ${head} 已升级（原因：${t.escalationReason ?? '—'}），受理期限 ${shanghai(t.acceptBy)}（北京时间）。`,
      `Complaint ${t.number} was escalated to the market regulator`,
      `Complaint ${head} was escalated (reason: ${t.escalationReason ?? '—'}); the office decides on acceptance by ${shanghai(t.acceptBy)} (Beijing time).`,
    ],
  };
  const [zhSubject, zh, enSubject, en] = bodies[kind];
  return {
    subject: `${zhSubject} / ${enSubject}`,
    text: `${zh}\n\n——\n\n${en}\n\n— 和解 Hejie\n`,
  };
}

/** Which mail (if any) a trail event queues for the merchant. */
export function mailKindOf(event: { type: string; data: unknown }): MailKind | null {
  const data = (event.data ?? {}) as { to?: string; type?: string };
  switch (event.type) {
    case 'created':
      return 'new_ticket';
    case 'offer_accepted':
      // An accepted money offer now waits for its refund (not when refunds already covered it).
      return data.to === 'settling' &&
        ['refund', 'partial_refund', 'compensation'].includes(data.type ?? '')
        ? 'awaiting_refund'
        : null;
    case 'escalated':
      return 'escalation';
    default:
      return null;
  }
}
