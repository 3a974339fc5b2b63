import { useState } from 'react';
import { call, client } from '../api';
import { useAsync } from '../hooks';
import { useI18n } from '../i18n';
import { useLiveList } from '../live';
import type { Ticket, TicketStatus } from '../types';

/** The filters of a staff ticket list (GET /v1/complaints). */
export interface TicketListQuery {
  status?: TicketStatus;
  unassigned?: boolean;
}

/**
 * A staff ticket list (the merchant's inbox, the office's queue): the first page for `query`,
 * more on demand, kept current from the live feed. A ticket that changes comes in (marked
 * fresh, `onArrive` told) or is updated when it `fits`, and leaves when it no longer does;
 * `merge` keeps what the list knew that the live event does not carry.
 */
export function useLiveTickets(
  query: TicketListQuery,
  fits: (tk: Ticket) => boolean,
  opts: {
    onArrive?: (tk: Ticket) => void;
    merge?: (tk: Ticket, known: Ticket | undefined) => Ticket;
  } = {},
) {
  const [cursor, setCursor] = useState<string | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const page = (after?: string, signal?: AbortSignal) =>
    call(
      client.GET('/v1/complaints', {
        params: { query: { ...query, limit: 100, cursor: after } },
        signal,
      }),
    );
  const list = useAsync(
    async (signal) => {
      const first = await page(undefined, signal);
      setCursor(first.nextCursor);
      return first.items;
    },
    [query.status, query.unassigned],
  );

  useLiveList(list, (items, tk) => {
    const known = items.find((x) => x.id === tk.id);
    if (!fits(tk)) return known ? items.filter((x) => x.id !== tk.id) : items;
    if (!known) {
      setFresh((f) => new Set(f).add(tk.id));
      opts.onArrive?.(tk);
    }
    const merged = opts.merge ? opts.merge(tk, known) : tk;
    return known ? items.map((x) => (x.id === tk.id ? merged : x)) : [...items, merged];
  });

  const loadMore = async () => {
    if (!cursor) return;
    const next = await page(cursor);
    list.setData((prev) => [
      ...(prev ?? []),
      ...next.items.filter((x) => !(prev ?? []).some((p) => p.id === x.id)),
    ]);
    setCursor(next.nextCursor);
  };

  return { list, fresh, cursor, loadMore };
}

/** "Load more" under a list while the API has a next page. */
export function LoadMore({
  cursor,
  onLoad,
}: {
  cursor: string | null;
  onLoad: () => Promise<void>;
}) {
  const { t } = useI18n();
  return cursor ? (
    <button type="button" className="btn btn-secondary" onClick={() => void onLoad()}>
      {t('common.loadMore')}
    </button>
  ) : null;
}
