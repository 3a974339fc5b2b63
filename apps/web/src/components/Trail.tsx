import { useI18n } from '../i18n';
import { DateTime } from './ui';
import type { Office, TrailEvent, Verify } from '../types';

function str(v: unknown): string | null {
  return typeof v === 'string' && v ? v : null;
}

/** Free text of an event (a note, a reason), quoted after what precedes it; nothing if empty. */
function quoteAfter(v: unknown) {
  const text = str(v);
  return text ? <span className="quote"> {text}</span> : null;
}

/** One line of what an event says, in words (untrusted text stays text). */
export function EventSummary({
  e,
  offices,
  paidMinor,
}: {
  e: TrailEvent;
  offices?: Map<string, Office>;
  /** The amount paid on the bill: a refund of exactly this much reads "full refund". */
  paidMinor?: number;
}) {
  const { t, label, demand: demandLabel, money, dateTime } = useI18n();
  const d = e.data ?? {};
  // Consumers and merchants cannot list offices: they read "the market regulator".
  const office = (id: unknown) =>
    typeof id === 'string' ? (offices?.get(id)?.name ?? t('trail.anOffice')) : '—';
  /** A value of a vocabulary in words (a decline reason, an appeal's outcome), then its text. */
  const worded = (group: string, value: unknown, text: unknown) => (
    <>
      {label(group, str(value))}
      {quoteAfter(text)}
    </>
  );
  switch (e.type) {
    case 'created': {
      const demand = (d.demand ?? {}) as { type?: string; amountMinor?: number | null };
      return (
        <>
          {label('category', str(d.category))} ·{' '}
          {demandLabel(demand.type, demand.amountMinor, paidMinor)}
          {demand.amountMinor ? ` ${money(demand.amountMinor)}` : ''}
        </>
      );
    }
    case 'message':
      return <span className="quote">{str(d.body)}</span>;
    case 'offer_made':
      return (
        <>
          {demandLabel(
            str(d.type),
            typeof d.amountMinor === 'number' ? d.amountMinor : null,
            paidMinor,
          )}
          {typeof d.amountMinor === 'number' ? ` ${money(d.amountMinor)}` : ''}
          {quoteAfter(d.note)}
        </>
      );
    case 'offer_rejected':
    case 'withdrawn':
    case 'appealed':
      return str(d.reason) ? <span className="quote">{str(d.reason)}</span> : null;
    case 'escalated':
      return (
        <>
          {label('escalation', str(d.reason))}
          {d.officeId ? ` → ${office(d.officeId)}` : ` · ${t('ticket.unassigned')}`}
          {quoteAfter(d.consumerReason)}
        </>
      );
    case 'accepted':
      return <>{t('trail.mediationEndBy', { at: dateTime(str(d.mediationEndBy)) })}</>;
    case 'declined':
      return worded('decline', d.reason, d.detail);
    case 'deadline_extended':
    case 'deadline_changed':
      return (
        <>
          {t('trail.deadlineMoved', { from: dateTime(str(d.from)), to: dateTime(str(d.to)) })}
          {quoteAfter(d.reason)}
        </>
      );
    case 'transferred':
      return (
        <>
          {office(d.from)} → {office(d.to)}
        </>
      );
    case 'mediated':
    case 'mediation_failed':
      return (
        <>
          {str(d.reason) ? label('mediationReason', str(d.reason)) : null}
          {quoteAfter(d.settlement)}
          {quoteAfter(d.note)}
        </>
      );
    case 'appeal_decided':
      return worded('appealOutcome', d.outcome, d.note);
    case 'regulator_viewed':
      return d.what === 'case_packet' ? <>{t('packet.title')}</> : null;
    case 'attachment_added':
      return (
        <>
          {str(d.filename)}{' '}
          <code className="hash" title={str(d.sha256) ?? ''}>
            sha256 {str(d.sha256)?.slice(0, 16)}…
          </code>
          {quoteAfter(d.note)}
        </>
      );
    default:
      return null;
  }
}

/** The tamper-evident trail: every event with who, when, and its hash; plus the chain check. */
export function Trail({
  events,
  verify,
  offices,
  paidMinor,
}: {
  events: TrailEvent[];
  verify?: Verify | null;
  offices?: Map<string, Office>;
  paidMinor?: number;
}) {
  const { t, label, number } = useI18n();
  return (
    <div className="trail">
      {verify ? (
        <p
          className={`verify ${verify.valid ? 'verify-ok' : 'verify-bad'}`}
          data-testid="verify"
          data-valid={String(verify.valid)}
          role="status"
        >
          <span aria-hidden="true">{verify.valid ? '✔' : '✖'}</span>{' '}
          {verify.valid
            ? t('trail.valid', { n: number(verify.length) })
            : t('trail.invalid', { seq: verify.firstInvalidSeq ?? '?' })}
        </p>
      ) : null}
      <ol className="timeline">
        {events.map((e) => (
          <li key={e.seq} className={`tl tl-${e.type}`}>
            <div className="tl-head">
              <span className="tl-type">{label('event', e.type)}</span>
              <span className="tl-actor">{label('actor', e.actor.role)}</span>
              <DateTime iso={e.at} />
            </div>
            <div className="tl-body">
              <EventSummary e={e} offices={offices} paidMinor={paidMinor} />
            </div>
            <div className="tl-hash" title={e.hash}>
              #{e.seq} · <code>{e.hash.slice(0, 12)}</code>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}
