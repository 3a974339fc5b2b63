import { useState } from 'react';
import type { ReactNode } from 'react';
import { allPages, ApiError, call, client } from '../api';
import { useAsync } from '../hooks';
import { TIME_ZONE, useI18n } from '../i18n';
import { useSignedIn } from '../session';
import { ByDayChart, DistrictChart } from '../components/Charts';
import type { DistrictRow } from '../components/Charts';
import { Card, ErrorNotice, Loading, Notice, Rate } from '../components/ui';
import type { Office, Ticket } from '../types';

/** YYYY-MM-DD in Shanghai, `daysBack` days before today. */
function shanghaiDay(daysBack = 0): string {
  const d = new Date(Date.now() - daysBack * 86400_000);
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(d);
}

/**
 * Districts worth a bar: the 6-digit codes under the scope's prefixes that offices or tickets
 * name. Their names come from the API (GB/T 2260: tickets' regionName, then each report's).
 */
function districtsOf(scope: string[] | null, offices: Office[], tickets: Ticket[]): DistrictRow[] {
  const inScope = (code: string) => !scope || scope.some((p) => code.startsWith(p));
  const names = new Map<string, string>();
  for (const o of offices) {
    o.regionCodes.forEach((c, i) => {
      if (c.length === 6) names.set(c, o.regionNames?.[i] ?? c);
    });
  }
  for (const tk of tickets) if (tk.regionName) names.set(tk.regionCode, tk.regionName);
  const codes = new Set<string>();
  for (const o of offices)
    for (const c of o.regionCodes) if (c.length === 6 && inScope(c)) codes.add(c);
  for (const tk of tickets) if (inScope(tk.regionCode)) codes.add(tk.regionCode);
  if (codes.size === 0 && scope) scope.forEach((c) => codes.add(c));
  return [...codes]
    .sort()
    .slice(0, 30)
    .map((code) => ({ code, name: names.get(code) ?? code, report: null }));
}

/**
 * One of the two rates (self-resolved, verified self-resolved), with what it is made of: "12 of
 * 20 tickets", or words when there is nothing to divide by (so "no data" never looks like 0 %).
 * Both divide by the same `total`: the tickets that closed by themselves or escalated.
 */
function RateCard(props: {
  label: string;
  rate: number | null | undefined;
  count: number | undefined;
  total: number;
  testId: string;
}) {
  const { t, number } = useI18n();
  const none = props.rate === null || props.rate === undefined;
  return (
    <div className={none ? 'rate-card rate-card-none' : 'rate-card'} data-testid={props.testId}>
      <span className="kpi-label">{props.label}</span>
      <span className="rate-card-value">
        <Rate rate={props.rate} />
      </span>
      <span className="rate-card-sub">
        {none
          ? t('stats.nothingClosed')
          : t('stats.outOf', { n: number(props.count ?? 0), d: number(props.total) })}
      </span>
    </div>
  );
}

/** Self-resolution measures: a merchant's own, an office's jurisdiction (by district), or all. */
export function Stats() {
  const session = useSignedIn();
  const { role, merchantId, officeId } = session.claims;
  const { t, number } = useI18n();
  const [days, setDays] = useState(30);
  const from = shanghaiDay(days - 1);
  const to = shanghaiDay(0);

  const overall = useAsync(
    (signal) =>
      call(
        client.GET('/v1/stats/self-resolution', {
          params: {
            query: { from, to, ...(role === 'merchant' && merchantId ? { merchantId } : {}) },
          },
          signal,
        }),
      ),
    [from, to, role, merchantId],
  );

  const districts = useAsync<DistrictRow[]>(
    async (signal) => {
      if (role !== 'regulator' && role !== 'admin') return [];
      const [offices, own, page] = await Promise.all([
        allPages((cursor) =>
          call(client.GET('/v1/offices', { params: { query: { limit: 100, cursor } }, signal })),
        ),
        officeId
          ? call(client.GET('/v1/offices/{officeId}', { params: { path: { officeId } }, signal }))
          : Promise.resolve(null),
        call(client.GET('/v1/complaints', { params: { query: { limit: 100 } }, signal })),
      ]);
      const rows = districtsOf(own ? own.regionCodes : null, offices, page.items);
      const reports = await Promise.allSettled(
        rows.map((r) =>
          call(
            client.GET('/v1/stats/self-resolution', {
              params: { query: { from, to, regionCode: r.code } },
              signal,
            }),
          ),
        ),
      );
      return rows.map((r, i) => {
        const report = reports[i].status === 'fulfilled' ? reports[i].value : null;
        return { ...r, name: report?.regionName ?? r.name, report };
      });
    },
    [from, to, role, officeId],
  );

  const unavailable =
    overall.error instanceof ApiError && [404, 501, 503].includes(overall.error.status);
  const r = overall.data;
  // What both rates divide by: the tickets that closed by themselves or escalated.
  const decided = r ? r.selfResolved + r.escalated : 0;

  return (
    <div className="stats">
      <div className="page-head">
        <div>
          <h1>{role === 'merchant' ? t('stats.merchantTitle') : t('stats.title')}</h1>
          <p className="lead">{t('stats.lead')}</p>
        </div>
        <div className="field">
          <label htmlFor="range">{t('stats.range')}</label>
          <select id="range" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {[7, 30, 90].map((d) => (
              <option key={d} value={d}>
                {t('stats.lastDays', { n: d })}
              </option>
            ))}
          </select>
        </div>
      </div>
      {overall.loading ? <Loading /> : null}
      {unavailable ? (
        <Notice kind="warn">
          <span data-testid="stats-unavailable">{t('stats.unavailable')}</span>
        </Notice>
      ) : (
        <ErrorNotice error={overall.error} />
      )}
      {r ? (
        <>
          <div className="rate-pair" data-testid="rate-pair">
            <RateCard
              testId="kpi-rate"
              label={t('stats.rate')}
              rate={r.rate}
              count={r.selfResolved}
              total={decided}
            />
            <RateCard
              testId="kpi-verified"
              label={t('stats.verifiedRate')}
              rate={r.verifiedRate}
              count={r.verifiedSelfResolved}
              total={decided}
            />
          </div>
          <details className="how" data-testid="stats-how">
            <summary>{t('stats.how')}</summary>
            <p>{t('stats.howRate')}</p>
            <p>{t('stats.howVerified')}</p>
            <p>{t('stats.howDays')}</p>
            <p>{t('stats.howNoData')}</p>
          </details>
          <ul className="kpis" data-testid="kpis">
            <Kpi label={t('stats.onTime')} value={<Rate rate={r.merchantOnTimeResponseRate} />} />
            <Kpi label={t('stats.selfResolved')} value={number(r.selfResolved)} />
            <Kpi label={t('stats.escalated')} value={number(r.escalated)} />
            <Kpi label={t('stats.withdrawn')} value={number(r.withdrawn)} />
            <Kpi label={t('stats.open')} value={number(r.open)} />
            <Kpi
              label={t('stats.median')}
              value={
                r.medianHoursToResolve === null
                  ? '—'
                  : t('stats.hours', {
                      n: number(r.medianHoursToResolve, { maximumFractionDigits: 1 }),
                    })
              }
            />
          </ul>
          <Card>
            {r.byDay?.length ? (
              <ByDayChart report={r} title={t('stats.overTime')} />
            ) : (
              <p className="muted">{t('stats.noDays')}</p>
            )}
          </Card>
        </>
      ) : null}
      {role === 'regulator' || role === 'admin' ? (
        <Card>
          {districts.loading ? <Loading /> : null}
          <ErrorNotice error={districts.error} />
          {districts.data?.length ? (
            districts.data.every((d) => !d.report) ? (
              <p className="muted">{t('stats.unavailable')}</p>
            ) : (
              <DistrictChart rows={districts.data} title={t('stats.byDistrict')} />
            )
          ) : null}
        </Card>
      ) : null}
    </div>
  );
}

/** One figure of the statistics' KPI list. */
function Kpi({ label, value }: { label: string; value: ReactNode }) {
  return (
    <li className="kpi">
      <span className="kpi-label">{label}</span>
      <span className="kpi-value">{value}</span>
    </li>
  );
}
