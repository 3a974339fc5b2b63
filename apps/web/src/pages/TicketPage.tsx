import { useState } from 'react';
import { allPages, call, client } from '../api';
import { useAsync } from '../hooks';
import { useI18n } from '../i18n';
import { useLive } from '../live';
import { Link } from '../router';
import { useSignedIn } from '../session';
import { Trail } from '../components/Trail';
import { CasePacketCard, NextSteps } from '../components/CasePacket';
import { EvidenceCard } from '../components/Evidence';
import { useFocusOn } from '../components/fields';
import { Card, DateTime, ErrorNotice, Loading, StatusBadge } from '../components/ui';
import type { Offer, Office, Role, Ticket, TrailEvent, Verify } from '../types';
import { ConsumerActions, OfferAnswer, SettlementAnswer } from './ticket/ConsumerPanel';
import { Deadline } from './ticket/Deadline';
import { OfferForm } from './ticket/MerchantPanel';
import { Offers } from './ticket/Offers';
import { RegulatorActions } from './ticket/RegulatorPanel';
import { SettlementCard } from './ticket/Settlement';
import { Thread } from './ticket/Thread';
import { ComplaintFacts, OrderFacts } from './ticket/TicketFacts';

interface Extras {
  events: TrailEvent[];
  offers: Offer[];
  verify: Verify | null;
}

/**
 * One ticket, for whoever may see it. The shared cards (deadline, facts, offers, thread, trail)
 * are the same for every role; the role panels (ticket/ConsumerPanel, MerchantPanel,
 * RegulatorPanel) render what the server says the viewer may do now (`ticket.actions`).
 */
export function TicketPage({ id }: { id: string }) {
  const session = useSignedIn();
  const role = session.claims.role;
  const { t, label } = useI18n();
  // Each action's result message, numbered so the same message twice still moves focus.
  const [flash, setFlash] = useState<{ n: number; text: string } | null>(null);
  const flashRef = useFocusOn<HTMLDivElement>(flash?.n);

  // A regulator's GET of a ticket is recorded in the trail: fetch it once, then follow the
  // stream's copies (which are the same view) instead of re-reading it.
  const path = { path: { id } };
  const ticket = useAsync(
    (signal) => call(client.GET('/v1/complaints/{id}', { params: path, signal })),
    [id],
  );
  const extras = useAsync<Extras>(
    async (signal) => {
      const [events, offers, verify] = await Promise.all([
        call(client.GET('/v1/complaints/{id}/events', { params: path, signal })),
        call(client.GET('/v1/complaints/{id}/offers', { params: path, signal })),
        call(client.GET('/v1/complaints/{id}/events/verify', { params: path, signal })).catch(
          () => null,
        ),
      ]);
      return { events: events.items, offers: offers.items, verify };
    },
    [id],
  );
  const offices = useAsync<Map<string, Office>>(
    async (signal) => {
      if (role !== 'regulator' && role !== 'admin') return new Map();
      const list = await allPages((cursor) =>
        call(client.GET('/v1/offices', { params: { query: { limit: 100, cursor } }, signal })),
      );
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

  /**
   * After an action: the ticket it answered with (if any), the trail and offers again, and the
   * result said in the status message, which takes the focus (the form that had it may be gone).
   */
  const after = async (result: Ticket | null, message: string) => {
    if (result && result.id === id) setTicket(result);
    else if (role !== 'regulator') await ticket.reload();
    await extras.reload();
    setFlash((f) => ({ n: (f?.n ?? 0) + 1, text: message }));
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
  const office = role === 'regulator' || role === 'admin';
  const offers = (
    <Offers
      role={role}
      ticket={tk}
      offers={ex?.offers ?? []}
      answer={
        role === 'consumer' ? (o) => <OfferAnswer ticket={tk} offer={o} after={after} /> : undefined
      }
      form={tk.actions.includes('offer') ? <OfferForm ticket={tk} after={after} /> : undefined}
    />
  );
  // What waits for the consumer comes first: the pending offer, then the settlement.
  const offersFirst = tk.actions.includes('accept_offer');

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
        <div
          ref={flashRef}
          tabIndex={-1}
          className="notice notice-success flash"
          role="status"
          data-testid="flash"
        >
          {flash.text}
        </div>
      ) : null}
      <div className="ticket-grid">
        <div className="ticket-col">
          <Deadline ticket={tk} />
          {offersFirst ? offers : null}
          <SettlementCard ticket={tk} events={ex?.events ?? []}>
            <SettlementAnswer ticket={tk} after={after} />
          </SettlementCard>
          {role === 'consumer' ? <NextSteps ticket={tk} onChange={() => ticket.reload()} /> : null}
          {role === 'consumer' ? <ConsumerActions ticket={tk} after={after} /> : null}
          {office ? <RegulatorActions ticket={tk} offices={offices.data} after={after} /> : null}
          {office ? <CasePacketCard ticket={tk} /> : null}
          <ComplaintFacts ticket={tk} />
          <OrderFacts ticket={tk} role={role} />
          <EvidenceCard ticket={tk} role={role} onChange={() => extras.reload()} />
          {offersFirst ? null : offers}
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
