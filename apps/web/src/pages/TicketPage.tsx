import { useMemo, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { get, getAll, post } from '../api';
import { useAction, useAsync, useNow } from '../hooks';
import type { After } from '../hooks';
import { parseAmount, useI18n } from '../i18n';
import { useLive } from '../live';
import { Link } from '../router';
import { useSignedIn } from '../session';
import { Trail } from '../components/Trail';
import { AppealDecision, ConsumerAppeal } from '../components/Appeal';
import { CasePacketCard, EvidenceCard, NextSteps } from '../components/Evidence';
import {
  Card,
  ConfirmStep,
  Countdown,
  DateTime,
  ErrorNotice,
  Facts,
  Field,
  Loading,
  Money,
  Notice,
  StatusBadge,
} from '../components/ui';
import { AMOUNT_TYPES, DECLINE_REASONS, DEMAND_TYPES, MERCHANT_PHASE, TERMINAL } from '../types';
import type {
  DeclineReason,
  DemandType,
  Offer,
  Office,
  Role,
  Ticket,
  TrailEvent,
  Verify,
} from '../types';

interface Extras {
  events: TrailEvent[];
  offers: Offer[];
  verify: Verify | null;
}

/** One ticket, for whoever may see it; what can be done depends on the role and the status. */
export function TicketPage({ id }: { id: string }) {
  const session = useSignedIn();
  const role = session.claims.role;
  const { t, label, demand } = useI18n();
  const [flash, setFlash] = useState<string | null>(null);

  // A regulator's GET of a ticket is recorded in the trail: fetch it once, then follow the
  // stream's copies (which are the same view) instead of re-reading it.
  const ticket = useAsync((signal) => get<Ticket>(`/v1/complaints/${id}`, { signal }), [id]);
  const extras = useAsync<Extras>(
    async (signal) => {
      const [events, offers, verify] = await Promise.all([
        get<{ items: TrailEvent[] }>(`/v1/complaints/${id}/events`, { signal }),
        get<{ items: Offer[] }>(`/v1/complaints/${id}/offers`, { signal }),
        get<Verify>(`/v1/complaints/${id}/events/verify`, { signal }).catch(() => null),
      ]);
      return { events: events.items, offers: offers.items, verify };
    },
    [id],
  );
  const offices = useAsync<Map<string, Office>>(
    async (signal) => {
      if (role !== 'regulator' && role !== 'admin') return new Map();
      const list = await getAll<Office>('/v1/offices', 1000, { signal });
      return new Map(list.map((o) => [o.id, o]));
    },
    [role],
  );

  const setTicket = (next: Ticket) =>
    ticket.setData((prev) => ({
      ...next,
      serialComplainant: next.serialComplainant ?? prev?.serialComplainant,
      // Only GET (and the escalation's answer) carry these; the stream's copies do not.
      officeName: next.officeName ?? prev?.officeName,
      casePacket: next.casePacket ?? prev?.casePacket,
    }));

  useLive((m) => {
    if (m.kind === 'ready') {
      if (role !== 'regulator') void ticket.reload();
      void extras.reload();
    } else if (m.event.ticket.id === id) {
      setTicket(m.event.ticket);
      void extras.reload();
    }
  });

  /** After an action: the ticket it answered with (if any), and the trail and offers again. */
  const after = async (result: Ticket | null, message: string) => {
    if (result && result.id === id) setTicket(result);
    else if (role !== 'regulator') await ticket.reload();
    await extras.reload();
    setFlash(message);
  };

  if (ticket.loading) return <Loading />;
  if (ticket.error || !ticket.data) return <ErrorNotice error={ticket.error} />;
  const tk = ticket.data;
  const ex = extras.data;
  const messages = (ex?.events ?? []).filter((e) => e.type === 'message');
  const back: Record<Role, [string, string]> = {
    consumer: ['/bills', t('nav.bills')],
    merchant: ['/inbox', t('nav.inbox')],
    regulator: ['/queue', t('nav.queue')],
    admin: ['/queue', t('nav.allTickets')],
  };

  return (
    <article className="ticket" data-ticket={tk.id} data-status={tk.status}>
      <p className="breadcrumb">
        <Link to={back[role][0]}>
          <span aria-hidden="true">← </span>
          {back[role][1]}
        </Link>
      </p>
      <header className="ticket-head">
        <div>
          <h1>
            <span className="ticket-title">
              {tk.order.merchantName || tk.order.storeName || tk.order.subject}
            </span>
            <span className="ticket-number">{tk.number}</span>
          </h1>
          <p className="ticket-sub">
            {tk.order.storeName} · {label('category', tk.category)} ·{' '}
            <DateTime iso={tk.createdAt} />
          </p>
        </div>
        <div className="ticket-status">
          <StatusBadge status={tk.status} />
          {tk.serialComplainant ? (
            <span className="badge badge-warn">{t('ticket.serial')}</span>
          ) : null}
        </div>
      </header>
      {flash ? (
        <Notice kind="success">
          <span data-testid="flash">{flash}</span>
        </Notice>
      ) : null}
      <div className="ticket-grid">
        <div className="ticket-col">
          <Deadline ticket={tk} />
          {/* What waits for the consumer comes first: the pending offer, then the settlement. */}
          {role === 'consumer' && tk.pendingOfferId ? (
            <Offers role={role} ticket={tk} offers={ex?.offers ?? []} after={after} />
          ) : null}
          <SettlementCard role={role} ticket={tk} events={ex?.events ?? []} after={after} />
          {role === 'consumer' ? <NextSteps ticket={tk} onChange={() => ticket.reload()} /> : null}
          <ActionsFor role={role} ticket={tk} offices={offices.data} after={after} />
          {role === 'regulator' || role === 'admin' ? <CasePacketCard ticket={tk} /> : null}
          <Card title={t('ticket.complaint')}>
            <Facts
              items={[
                [t('ticket.category'), label('category', tk.category)],
                [
                  t('ticket.demand'),
                  <>
                    {demand(tk.demand.type, tk.demand.amountMinor, tk.order.amountMinor)}
                    {tk.demand.amountMinor !== null ? (
                      <>
                        {' '}
                        <Money minor={tk.demand.amountMinor} currency={tk.order.currency} />
                      </>
                    ) : null}
                  </>,
                ],
                [t('ticket.phone'), tk.contactPhone],
                [
                  t('ticket.escalationReason'),
                  tk.escalationReason ? label('escalation', tk.escalationReason) : null,
                ],
                [
                  t('ticket.declineReason'),
                  tk.declineReason ? label('decline', tk.declineReason) : null,
                ],
                [t('ticket.declineDetail'), tk.declineDetail],
              ]}
            />
            <p className="description">{tk.description}</p>
          </Card>
          <Card title={t('ticket.order')} className="order-facts">
            <Facts
              items={[
                [t('order.merchant'), tk.order.merchantName],
                [t('order.store'), tk.order.storeName],
                [t('order.address'), tk.order.storeAddress],
                [t('order.subject'), tk.order.subject],
                [
                  t('order.amount'),
                  <Money key="a" minor={tk.order.amountMinor} currency={tk.order.currency} />,
                ],
                [t('order.paidAt'), <DateTime key="p" iso={tk.order.paidAt} />],
                [t('order.provider'), label('provider', tk.order.provider)],
                [t('order.tradeNo'), <code key="n">{tk.order.tradeNo}</code>],
                // Region codes are for offices and merchants; consumers read the office's name.
                [t('order.region'), role === 'consumer' ? null : tk.regionCode],
              ]}
            />
          </Card>
          <EvidenceCard ticket={tk} role={role} onChange={() => extras.reload()} />
          {role === 'consumer' && tk.pendingOfferId ? null : (
            <Offers role={role} ticket={tk} offers={ex?.offers ?? []} after={after} />
          )}
          <Thread role={role} ticket={tk} messages={messages} after={after} />
        </div>
        <div className="ticket-col">
          <Card title={t('ticket.trail')}>
            {ex ? (
              <Trail
                events={ex.events}
                verify={ex.verify}
                offices={offices.data}
                paidMinor={tk.order.amountMinor}
              />
            ) : (
              <Loading />
            )}
            <ErrorNotice error={extras.error} />
          </Card>
        </div>
      </div>
    </article>
  );
}

function Deadline({ ticket: tk }: { ticket: Ticket }) {
  const { t } = useI18n();
  let row: ReactNode;
  if (tk.status === 'awaiting_merchant')
    row = <DeadlineRow label={t('deadline.merchantRespondBy')} at={tk.merchantRespondBy} />;
  else if (tk.status === 'in_negotiation')
    row = <DeadlineRow label={t('deadline.resolveBy')} at={tk.resolveBy} />;
  else if (tk.status === 'settling')
    row = <DeadlineRow label={t('deadline.settleBy')} at={tk.settlement?.settleBy ?? null} />;
  else if (tk.status === 'escalated')
    row = (
      <DeadlineRow label={t('deadline.acceptBy')} at={tk.acceptBy}>
        {tk.acceptanceOverdue ? (
          <span className="badge badge-danger">{t('queue.acceptanceOverdue')}</span>
        ) : null}
        <RuleNote ticket={tk} field="acceptBy" />
      </DeadlineRow>
    );
  else if (tk.status === 'mediating')
    row = (
      <DeadlineRow label={t('deadline.mediationEndBy')} at={tk.mediationEndBy}>
        <RuleNote ticket={tk} field="mediationEndBy" />
      </DeadlineRow>
    );
  else if (tk.status === 'appealed')
    row = (
      <DeadlineRow label={t('deadline.reviewBy')} at={tk.reviewBy}>
        <RuleNote ticket={tk} field="reviewBy" />
        {tk.appealReviewOverdue ? (
          <span className="badge badge-danger">{t('appeal.reviewOverdue')}</span>
        ) : null}
      </DeadlineRow>
    );
  else row = <DeadlineRow label={t('deadline.closedAt')} at={tk.closedAt} static />;
  return (
    <section className="card deadline" aria-label={t('deadline.title')}>
      {row}
    </section>
  );
}

/** The rule set's name next to a regulator deadline, whether it is estimated, and its extension's reason. */
function RuleNote({
  ticket: tk,
  field,
}: {
  ticket: Ticket;
  field: 'acceptBy' | 'mediationEndBy' | 'reviewBy';
}) {
  const { t } = useI18n();
  const set = tk.ruleSet ?? 'cn-12315';
  const name = set === 'cn-12315' || set === 'platform-live-commerce' ? t(`rules.${set}`) : set;
  const extension = (tk.extensions ?? []).find((e) => e.deadline === field);
  return (
    <>
      <span className="badge">{name}</span>
      {tk.deadlineBasis?.[field] === 'estimated' ? (
        <span className="badge badge-warn">{t('deadline.estimated')}</span>
      ) : null}
      {extension ? (
        <span className="deadline-extension">
          {t('deadline.extended', { n: extension.workdays, reason: extension.reason })}
        </span>
      ) : null}
    </>
  );
}

function DeadlineRow({
  label,
  at,
  children,
  static: isStatic,
}: {
  label: string;
  at: string | null;
  children?: ReactNode;
  static?: boolean;
}) {
  return (
    <div className="deadline-row">
      <span className="deadline-label">{label}</span>
      <span className="deadline-at">
        <DateTime iso={at} />
      </span>
      {isStatic ? null : <Countdown to={at} />}
      {children}
    </div>
  );
}

function ActionsFor(props: {
  role: Role;
  ticket: Ticket;
  offices?: Map<string, Office>;
  after: After;
}) {
  if (props.role === 'consumer') return <ConsumerActions {...props} />;
  if (props.role === 'regulator' || props.role === 'admin') return <RegulatorActions {...props} />;
  return null;
}

function ConsumerActions({ ticket: tk, after }: { ticket: Ticket; after: After }) {
  const { t, dateTime } = useI18n();
  const now = useNow(1000);
  const [open, setOpen] = useState<'escalate' | 'withdraw' | null>(null);
  const [reason, setReason] = useState('');
  const act = useAction();
  if (tk.appealableUntil || tk.status === 'appealed')
    return <ConsumerAppeal ticket={tk} after={after} />;
  // Escalating and withdrawing are for the negotiation; a settling ticket has its own card.
  if (!MERCHANT_PHASE.includes(tk.status) || tk.status === 'settling') return null;
  const tooEarly =
    tk.status === 'awaiting_merchant' &&
    !tk.firstResponseAt &&
    now < new Date(tk.merchantRespondBy).getTime();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void act.run(async () => {
      if (open === 'escalate') {
        const r = await post<Ticket>(`/v1/complaints/${tk.id}/escalate`, { reason: reason.trim() });
        await after(r, t('flash.escalated'));
      } else {
        const r = await post<Ticket>(
          `/v1/complaints/${tk.id}/withdraw`,
          reason.trim() ? { reason: reason.trim() } : {},
        );
        await after(r, t('flash.withdrawn'));
      }
      setOpen(null);
      setReason('');
    });
  };

  return (
    <Card title={t('actions.title')} className="actions">
      <div className="button-row">
        <button
          type="button"
          className="btn btn-danger"
          disabled={tooEarly || act.busy}
          aria-describedby={tooEarly ? 'escalate-why' : undefined}
          aria-expanded={open === 'escalate'}
          onClick={() => setOpen(open === 'escalate' ? null : 'escalate')}
          data-testid="escalate"
        >
          {t('actions.escalate')}
        </button>
        <button
          type="button"
          className="btn btn-secondary"
          disabled={act.busy}
          aria-expanded={open === 'withdraw'}
          onClick={() => setOpen(open === 'withdraw' ? null : 'withdraw')}
        >
          {t('actions.withdraw')}
        </button>
      </div>
      {tooEarly ? (
        <p id="escalate-why" className="hint escalate-why" data-testid="escalate-why">
          {t('actions.escalateTooEarly', { at: dateTime(tk.merchantRespondBy) })}{' '}
          <Countdown to={tk.merchantRespondBy} />
        </p>
      ) : (
        <p className="hint">{t('actions.escalateHint')}</p>
      )}
      {open ? (
        <form className="stack" onSubmit={submit}>
          <Field
            label={open === 'escalate' ? t('actions.escalateReason') : t('actions.withdrawReason')}
          >
            {(p) => (
              <textarea
                {...p}
                rows={3}
                value={reason}
                maxLength={2000}
                required={open === 'escalate'}
                onChange={(e) => setReason(e.target.value)}
              />
            )}
          </Field>
          <div className="button-row">
            <button
              type="submit"
              className={open === 'escalate' ? 'btn btn-danger' : 'btn btn-primary'}
              disabled={act.busy || (open === 'escalate' && !reason.trim())}
            >
              {open === 'escalate' ? t('actions.confirmEscalate') : t('actions.confirmWithdraw')}
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setOpen(null)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}

function RegulatorActions({
  ticket: tk,
  offices,
  after,
}: {
  ticket: Ticket;
  offices?: Map<string, Office>;
  after: After;
}) {
  const { t, label } = useI18n();
  const act = useAction();
  const [mode, setMode] = useState<'decline' | 'transfer' | null>(null);
  const [reason, setReason] = useState<DeclineReason>('outside_jurisdiction');
  const [detail, setDetail] = useState('');
  const [officeId, setOfficeId] = useState('');
  // No outcome preselected: the officer chooses, then confirms once more.
  const [outcome, setOutcome] = useState<'agreement' | 'failed' | null>(null);
  const [outcomeErrors, setOutcomeErrors] = useState<{ outcome?: string; settlement?: string }>({});
  const [confirmOutcome, setConfirmOutcome] = useState(false);
  const [note, setNote] = useState('');
  const [settlement, setSettlement] = useState('');
  const others = useMemo(
    () => [...(offices?.values() ?? [])].filter((o) => o.id !== tk.officeId),
    [offices, tk.officeId],
  );

  if (tk.status === 'appealed') return <AppealDecision ticket={tk} after={after} />;
  if (tk.status === 'escalated') {
    const accept = () =>
      void act.run(async () => {
        const r = await post<Ticket>(`/v1/complaints/${tk.id}/accept`);
        await after(r, t('flash.accepted'));
      });
    const submit = (e: FormEvent) => {
      e.preventDefault();
      void act.run(async () => {
        if (mode === 'decline') {
          const r = await post<Ticket>(`/v1/complaints/${tk.id}/decline`, {
            reason,
            ...(detail.trim() ? { detail: detail.trim() } : {}),
          });
          await after(r, t('flash.declined'));
        } else if (mode === 'transfer') {
          const r = await post<Ticket>(`/v1/complaints/${tk.id}/transfer`, { officeId });
          await after(
            r,
            t('flash.transferred', { office: offices?.get(officeId)?.name ?? officeId }),
          );
        }
        setMode(null);
      });
    };
    return (
      <Card title={t('reg.decide')} className="actions">
        <p className="hint">{t('reg.decideHint')}</p>
        <div className="button-row">
          <button
            type="button"
            className="btn btn-primary"
            onClick={accept}
            disabled={act.busy}
            data-testid="accept-case"
          >
            {t('reg.accept')}
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            aria-expanded={mode === 'decline'}
            onClick={() => setMode(mode === 'decline' ? null : 'decline')}
          >
            {t('reg.decline')}
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            aria-expanded={mode === 'transfer'}
            onClick={() => setMode(mode === 'transfer' ? null : 'transfer')}
          >
            {t('reg.transfer')}
          </button>
        </div>
        {mode === 'decline' ? (
          <form className="stack" onSubmit={submit}>
            <Field label={t('reg.declineReason')}>
              {(p) => (
                <select
                  {...p}
                  value={reason}
                  onChange={(e) => setReason(e.target.value as DeclineReason)}
                >
                  {DECLINE_REASONS.map((r) => (
                    <option key={r} value={r}>
                      {label('decline', r)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field
              label={t('reg.declineDetail')}
              hint={reason === 'other' ? t('reg.detailRequired') : undefined}
            >
              {(p) => (
                <textarea
                  {...p}
                  rows={3}
                  maxLength={2000}
                  value={detail}
                  onChange={(e) => setDetail(e.target.value)}
                />
              )}
            </Field>
            <button
              type="submit"
              className="btn btn-danger"
              disabled={act.busy || (reason === 'other' && !detail.trim())}
            >
              {t('reg.confirmDecline')}
            </button>
          </form>
        ) : null}
        {mode === 'transfer' ? (
          <form className="stack" onSubmit={submit}>
            <Field label={t('reg.transferTo')}>
              {(p) => (
                <select
                  {...p}
                  value={officeId}
                  onChange={(e) => setOfficeId(e.target.value)}
                  required
                >
                  <option value="">{t('reg.chooseOffice')}</option>
                  {others.map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.name} ({o.regionCodes.join(', ')})
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" className="btn btn-primary" disabled={act.busy || !officeId}>
              {t('reg.confirmTransfer')}
            </button>
          </form>
        ) : null}
        <ErrorNotice error={act.error} />
      </Card>
    );
  }

  if (tk.status === 'mediating') {
    const outcomeErrId = 'mediation-outcome-err';
    const submit = (e: FormEvent) => {
      e.preventDefault();
      const errs: { outcome?: string; settlement?: string } = {};
      if (!outcome) errs.outcome = t('reg.outcomeRequired');
      else if (outcome === 'agreement' && !settlement.trim())
        errs.settlement = t('reg.settlementRequired');
      setOutcomeErrors(errs);
      setConfirmOutcome(Object.keys(errs).length === 0);
    };
    const record = () =>
      void act.run(async () => {
        const r = await post<Ticket>(`/v1/complaints/${tk.id}/mediation`, {
          outcome,
          ...(note.trim() ? { note: note.trim() } : {}),
          ...(outcome === 'agreement' && settlement.trim()
            ? { settlement: settlement.trim() }
            : {}),
        });
        setConfirmOutcome(false);
        await after(r, t('flash.mediation'));
      });
    return (
      <Card title={t('reg.mediation')} className="actions">
        <form className="stack" onSubmit={submit} noValidate>
          <fieldset
            className={`radio-group${outcomeErrors.outcome ? ' field-invalid' : ''}`}
            aria-describedby={outcomeErrors.outcome ? outcomeErrId : undefined}
          >
            <legend>{t('reg.outcome')}</legend>
            {(['agreement', 'failed'] as const).map((o) => (
              <label key={o} className="radio">
                <input
                  type="radio"
                  name="outcome"
                  value={o}
                  checked={outcome === o}
                  aria-invalid={outcomeErrors.outcome ? true : undefined}
                  onChange={() => {
                    setOutcome(o);
                    setConfirmOutcome(false);
                    setOutcomeErrors({});
                  }}
                />
                {label('outcome', o)}
              </label>
            ))}
            {outcomeErrors.outcome ? (
              <p className="field-error" id={outcomeErrId}>
                {outcomeErrors.outcome}
              </p>
            ) : null}
          </fieldset>
          {outcome === 'agreement' ? (
            <Field label={t('reg.settlement')} error={outcomeErrors.settlement}>
              {(p) => (
                <textarea
                  {...p}
                  name="settlement"
                  rows={2}
                  maxLength={2000}
                  required
                  aria-required="true"
                  value={settlement}
                  onChange={(e) => {
                    setSettlement(e.target.value);
                    setConfirmOutcome(false);
                  }}
                />
              )}
            </Field>
          ) : null}
          <Field label={t('reg.note')}>
            {(p) => (
              <textarea
                {...p}
                rows={2}
                maxLength={2000}
                value={note}
                onChange={(e) => setNote(e.target.value)}
              />
            )}
          </Field>
          {confirmOutcome && outcome ? (
            <ConfirmStep
              question={t('reg.outcomeSure', { outcome: label('outcome', outcome) })}
              confirmLabel={t('reg.confirmOutcome')}
              onConfirm={record}
              onCancel={() => setConfirmOutcome(false)}
              busy={act.busy}
              testId="confirm-outcome"
            />
          ) : (
            <button
              type="submit"
              className="btn btn-primary"
              disabled={act.busy}
              data-testid="record-outcome"
            >
              {t('reg.recordOutcome')}
            </button>
          )}
        </form>
        <ErrorNotice error={act.error} />
      </Card>
    );
  }
  return null;
}

function Offers({
  role,
  ticket: tk,
  offers,
  after,
}: {
  role: Role;
  ticket: Ticket;
  offers: Offer[];
  after: After;
}) {
  const { t, label, demand } = useI18n();
  const act = useAction();
  const [rejecting, setRejecting] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [rejectReason, setRejectReason] = useState('');
  const canOffer =
    role === 'merchant' && MERCHANT_PHASE.includes(tk.status) && tk.status !== 'settling';
  if (!offers.length && !canOffer) return null;
  const pending = offers.find((o) => o.status === 'pending');

  const accept = (o: Offer) =>
    void act.run(async () => {
      const r = await post<Ticket>(`/v1/complaints/${tk.id}/offers/${o.id}/accept`);
      await after(r, t('flash.offerAccepted'));
    });
  const reject = (e: FormEvent, o: Offer) => {
    e.preventDefault();
    void act.run(async () => {
      const r = await post<Ticket>(
        `/v1/complaints/${tk.id}/offers/${o.id}/reject`,
        rejectReason.trim() ? { reason: rejectReason.trim() } : {},
      );
      setRejecting(null);
      setRejectReason('');
      await after(r, t('flash.offerRejected'));
    });
  };

  return (
    <Card title={t('offers.title')} className="offers">
      {offers.length === 0 ? <p className="muted">{t('offers.none')}</p> : null}
      <ol className="offer-list">
        {[...offers].reverse().map((o) => (
          <li key={o.id} className={`offer offer-${o.status}`} data-offer-status={o.status}>
            <div className="offer-main">
              <strong>{demand(o.type, o.amountMinor, tk.order.amountMinor)}</strong>
              {o.amountMinor !== null ? (
                <Money minor={o.amountMinor} currency={tk.order.currency} />
              ) : null}
              <span className={`badge offer-badge-${o.status}`}>
                {label('offerStatus', o.status)}
              </span>
            </div>
            {o.note ? <p className="quote">{o.note}</p> : null}
            {o.rejectReason ? (
              <p className="muted">
                {t('offers.rejectReason')}: <span className="quote">{o.rejectReason}</span>
              </p>
            ) : null}
            <p className="muted small">
              <DateTime iso={o.createdAt} />
            </p>
            {o.status === 'pending' && o.expiresAt ? (
              <p className="small" data-testid="offer-expiry">
                {t('offers.expires')} <Countdown to={o.expiresAt} />
                {role === 'consumer' ? (
                  <>
                    {' '}
                    ·{' '}
                    {AMOUNT_TYPES.includes(o.type)
                      ? t('offers.meansRefund')
                      : t('offers.meansOther')}
                  </>
                ) : null}
              </p>
            ) : null}
            {role === 'consumer' &&
            o.status === 'pending' &&
            o.id === pending?.id &&
            MERCHANT_PHASE.includes(tk.status) ? (
              <div className="stack">
                <div className="button-row">
                  <button
                    type="button"
                    className="btn btn-primary"
                    aria-expanded={confirming === o.id}
                    onClick={() => {
                      setRejecting(null);
                      setConfirming(confirming === o.id ? null : o.id);
                    }}
                    disabled={act.busy}
                    data-testid="accept-offer"
                  >
                    {t('offers.accept')}
                  </button>
                  <button
                    type="button"
                    className="btn btn-secondary"
                    aria-expanded={rejecting === o.id}
                    onClick={() => {
                      setConfirming(null);
                      setRejecting(rejecting === o.id ? null : o.id);
                    }}
                    disabled={act.busy}
                  >
                    {t('offers.reject')}
                  </button>
                </div>
                {confirming === o.id ? (
                  <ConfirmStep
                    question={t('offers.acceptSure')}
                    detail={t('offers.acceptFinal')}
                    confirmLabel={t('offers.confirmAccept')}
                    onConfirm={() => accept(o)}
                    onCancel={() => setConfirming(null)}
                    busy={act.busy}
                    testId="confirm-accept-offer"
                  />
                ) : null}
                {rejecting === o.id ? (
                  <form className="stack" onSubmit={(e) => reject(e, o)}>
                    <Field label={t('offers.rejectReasonLabel')}>
                      {(p) => (
                        <textarea
                          {...p}
                          rows={2}
                          maxLength={2000}
                          value={rejectReason}
                          onChange={(e) => setRejectReason(e.target.value)}
                        />
                      )}
                    </Field>
                    <button type="submit" className="btn btn-danger" disabled={act.busy}>
                      {t('offers.confirmReject')}
                    </button>
                  </form>
                ) : null}
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      {canOffer ? <OfferForm ticket={tk} after={after} hasPending={Boolean(pending)} /> : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}

function OfferForm({
  ticket: tk,
  after,
  hasPending,
}: {
  ticket: Ticket;
  after: After;
  hasPending: boolean;
}) {
  const { t, label, money } = useI18n();
  const act = useAction();
  const [type, setType] = useState<DemandType>(tk.demand.type);
  const [amount, setAmount] = useState(
    tk.demand.amountMinor !== null ? (tk.demand.amountMinor / 100).toFixed(2) : '',
  );
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const needsAmount = AMOUNT_TYPES.includes(type);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const minor = needsAmount ? parseAmount(amount, tk.order.currency) : null;
    if (needsAmount && (minor === null || minor <= 0)) {
      setError(t('resolve.amountInvalid'));
      return;
    }
    setError(null);
    void act.run(async () => {
      await post(`/v1/complaints/${tk.id}/offers`, {
        type,
        ...(needsAmount ? { amountMinor: minor } : {}),
        ...(note.trim() ? { note: note.trim() } : {}),
      });
      setNote('');
      await after(null, t('flash.offerMade'));
    });
  };

  return (
    <form className="stack offer-form" onSubmit={submit} aria-labelledby="offer-form-title">
      <h3 id="offer-form-title">{t('offers.make')}</h3>
      {hasPending ? <p className="hint">{t('offers.supersedes')}</p> : null}
      <Field label={t('offers.type')}>
        {(p) => (
          <select {...p} value={type} onChange={(e) => setType(e.target.value as DemandType)}>
            {DEMAND_TYPES.map((d) => (
              <option key={d} value={d}>
                {label('demand', d)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {needsAmount ? (
        <Field
          label={t('resolve.amount', { currency: tk.order.currency })}
          hint={t('offers.paid', { amount: money(tk.order.amountMinor, tk.order.currency) })}
          error={error ?? undefined}
        >
          {(p) => (
            <input
              {...p}
              name="offer-amount"
              inputMode="decimal"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          )}
        </Field>
      ) : null}
      <Field label={t('offers.note')}>
        {(p) => (
          <textarea
            {...p}
            name="offer-note"
            rows={2}
            maxLength={2000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        )}
      </Field>
      <button type="submit" className="btn btn-primary" disabled={act.busy}>
        {t('offers.send')}
      </button>
      <ErrorNotice error={act.error} />
    </form>
  );
}

function Thread({
  role,
  ticket: tk,
  messages,
  after,
}: {
  role: Role;
  ticket: Ticket;
  messages: TrailEvent[];
  after: After;
}) {
  const { t, label } = useI18n();
  const act = useAction();
  const [body, setBody] = useState('');
  const canWrite = !TERMINAL.includes(tk.status);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const text = body.trim();
    if (!text) return;
    void act.run(async () => {
      await post(`/v1/complaints/${tk.id}/messages`, { body: text });
      setBody('');
      await after(null, t('flash.messageSent'));
    });
  };
  const mine = (roleOf: string) => roleOf === role || (role === 'admin' && roleOf === 'regulator');
  return (
    <Card title={t('thread.title')} className="thread">
      {messages.length === 0 ? <p className="muted">{t('thread.empty')}</p> : null}
      <ol className="messages" aria-live="polite">
        {messages.map((m) => (
          <li
            key={m.seq}
            className={`message ${mine(m.actor.role) ? 'message-mine' : ''} message-${m.actor.role}`}
          >
            <div className="message-meta">
              {label('actor', m.actor.role)} · <DateTime iso={m.at} />
            </div>
            <p className="message-body">{typeof m.data.body === 'string' ? m.data.body : ''}</p>
          </li>
        ))}
      </ol>
      {canWrite ? (
        <form className="composer" onSubmit={submit}>
          <label htmlFor="composer-body" className="visually-hidden">
            {t('thread.write')}
          </label>
          <textarea
            id="composer-body"
            rows={2}
            maxLength={4000}
            value={body}
            placeholder={t('thread.placeholder')}
            onChange={(e) => setBody(e.target.value)}
          />
          <button type="submit" className="btn btn-primary" disabled={act.busy || !body.trim()}>
            {t('thread.send')}
          </button>
        </form>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}

/**
 * The accepted offer being carried out: what was agreed, by when, the refunds Hejie has seen
 * (from the trail's refund_received events), and for the consumer one tap to confirm or to say
 * it did not arrive.
 */
function SettlementCard({
  role,
  ticket: tk,
  events,
  after,
}: {
  role: Role;
  ticket: Ticket;
  events: TrailEvent[];
  after: After;
}) {
  const { t, label, demand } = useI18n();
  const [disputing, setDisputing] = useState(false);
  const [reason, setReason] = useState('');
  const act = useAction();
  const s = tk.settlement;
  if (!s) return null;
  const refunds = events.filter((e) => e.type === 'refund_received');
  const settling = tk.status === 'settling';
  const confirm = () =>
    void act.run(async () => {
      const r = await post<Ticket>(`/v1/complaints/${tk.id}/settlement/confirm`, {});
      await after(r, t('flash.settled'));
    });
  const dispute = (e: FormEvent) => {
    e.preventDefault();
    void act.run(async () => {
      const r = await post<Ticket>(`/v1/complaints/${tk.id}/settlement/dispute`, {
        reason: reason.trim(),
      });
      await after(r, t('flash.escalated'));
      setDisputing(false);
    });
  };
  return (
    <Card title={t('settlement.title')} className="settlement">
      <Facts
        items={[
          [
            t('settlement.offer'),
            <>
              {demand(s.type, s.amountMinor, tk.order.amountMinor)}
              {s.amountMinor !== null ? (
                <>
                  {' '}
                  <Money minor={s.amountMinor} currency={tk.order.currency} />
                </>
              ) : null}
            </>,
          ],
          [
            t('settlement.settleBy'),
            settling ? (
              <Countdown key="c" to={s.settleBy} />
            ) : (
              <DateTime key="d" iso={s.settleBy} />
            ),
          ],
          [
            t('settlement.refunded'),
            <Money key="r" minor={s.refundedMinor} currency={tk.order.currency} />,
          ],
          [t('settlement.via'), s.settledVia ? label('settledVia', s.settledVia) : null],
        ]}
      />
      {refunds.length ? (
        <ul className="refunds" data-testid="refunds">
          {refunds.map((e) => (
            <li key={e.seq}>
              <Money minor={Number(e.data.amountMinor)} currency={tk.order.currency} /> ·{' '}
              <DateTime iso={String(e.data.refundedAt ?? e.at)} />
            </li>
          ))}
        </ul>
      ) : settling ? (
        <p className="hint">{t('settlement.noRefundYet')}</p>
      ) : null}
      {role === 'consumer' && settling ? (
        <>
          <div className="button-row">
            <button
              type="button"
              className="btn btn-primary"
              disabled={act.busy}
              onClick={confirm}
              data-testid="settlement-confirm"
            >
              {t('settlement.confirm')}
            </button>
            <button
              type="button"
              className="btn"
              disabled={act.busy}
              aria-expanded={disputing}
              onClick={() => setDisputing(!disputing)}
              data-testid="settlement-dispute"
            >
              {t('settlement.notReceived')}
            </button>
          </div>
          {disputing ? (
            <form onSubmit={dispute} className="stack">
              <Field label={t('settlement.disputeReason')}>
                {(p) => (
                  <textarea
                    {...p}
                    required
                    maxLength={2000}
                    value={reason}
                    onChange={(e) => setReason(e.target.value)}
                  />
                )}
              </Field>
              <p className="hint">{t('settlement.disputeHint')}</p>
              <button
                type="submit"
                className="btn btn-danger"
                disabled={act.busy || !reason.trim()}
              >
                {t('settlement.disputeSubmit')}
              </button>
            </form>
          ) : null}
        </>
      ) : null}
      <ErrorNotice error={act.error} />
    </Card>
  );
}
