import {
  BarController,
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { ChartData, ChartOptions } from 'chart.js';
import { Bar, Chart } from 'react-chartjs-2';
import { useI18n } from '../i18n';
import { regionNameOf } from '../region';
import type { DictKey } from '../dict';
import { Rate } from './ui';
import type { SelfResolution } from '../types';

ChartJS.register(
  BarController,
  BarElement,
  CategoryScale,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  Legend,
);

const GREEN = '#1a7f4b';
const RED = '#b42318';
const BLUE = '#1d4ed8';

/** Self-resolved and escalated per day (bars) with the day's self-resolution rate (line). */
export function ByDayChart({ report, title }: { report: SelfResolution; title: string }) {
  const { t, number, date } = useI18n();
  const days = report.byDay;
  const labels = days.map((d) => d.day.slice(5));
  const data: ChartData<'bar' | 'line', (number | null)[], string> = {
    labels,
    datasets: [
      {
        type: 'bar',
        label: t('stats.selfResolved'),
        data: days.map((d) => d.selfResolved),
        backgroundColor: GREEN,
        stack: 'n',
        yAxisID: 'y',
        order: 2,
      },
      {
        type: 'bar',
        label: t('stats.escalated'),
        data: days.map((d) => d.escalated),
        backgroundColor: RED,
        stack: 'n',
        yAxisID: 'y',
        order: 2,
      },
      {
        type: 'line',
        label: t('stats.rate'),
        data: days.map((d) => (d.rate === null ? null : Math.round(d.rate * 1000) / 10)),
        borderColor: BLUE,
        backgroundColor: BLUE,
        spanGaps: true,
        tension: 0.25,
        pointRadius: 4,
        yAxisID: 'rate',
        order: 1,
      },
    ],
  };
  const options: ChartOptions<'bar' | 'line'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    scales: {
      x: { stacked: true },
      y: {
        stacked: true,
        beginAtZero: true,
        title: { display: true, text: t('stats.tickets') },
        ticks: { precision: 0 },
      },
      rate: {
        position: 'right',
        min: 0,
        max: 100,
        grid: { drawOnChartArea: false },
        title: { display: true, text: t('stats.ratePct') },
      },
    },
    plugins: { legend: { position: 'bottom' } },
  };
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-box">
        <Chart type="bar" data={data} options={options} role="img" aria-label={title} />
      </div>
      <details>
        <summary>{t('stats.asTable')}</summary>
        <table className="data-table">
          <ColumnHeads
            keys={['stats.day', 'stats.selfResolved', 'stats.escalated', 'stats.rate']}
          />
          <tbody>
            {days.map((d) => (
              <tr key={d.day}>
                <th scope="row">{date(`${d.day}T12:00:00+08:00`)}</th>
                <td className="num">{number(d.selfResolved)}</td>
                <td className="num">{number(d.escalated)}</td>
                <td className="num">
                  <Rate rate={d.rate} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** The header row of a chart's data table: a column header per dictionary key. */
function ColumnHeads({ keys }: { keys: DictKey[] }) {
  const { t } = useI18n();
  return (
    <thead>
      <tr>
        {keys.map((k) => (
          <th key={k} scope="col">
            {t(k)}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export interface DistrictRow {
  code: string;
  name: string;
  report: SelfResolution | null;
}

/** Self-resolution rate by district (horizontal bars). */
export function DistrictChart({ rows, title }: { rows: DistrictRow[]; title: string }) {
  const { t, number } = useI18n();
  const data: ChartData<'bar', (number | null)[], string> = {
    labels: rows.map((r) => r.name),
    datasets: [
      {
        label: t('stats.ratePct'),
        data: rows.map((r) =>
          r.report?.rate == null ? null : Math.round(r.report.rate * 1000) / 10,
        ),
        backgroundColor: GREEN,
      },
    ],
  };
  const options: ChartOptions<'bar'> = {
    indexAxis: 'y',
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    scales: { x: { min: 0, max: 100, title: { display: true, text: t('stats.ratePct') } } },
    plugins: { legend: { display: false } },
  };
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-box" style={{ height: Math.max(160, rows.length * 44 + 60) }}>
        <Bar data={data} options={options} role="img" aria-label={title} />
      </div>
      <table className="data-table">
        <ColumnHeads
          keys={[
            'stats.district',
            'stats.rate',
            'stats.selfResolved',
            'stats.escalated',
            'stats.onTime',
          ]}
        />
        <tbody>
          {rows.map((r) => (
            <tr key={r.code}>
              <th scope="row">
                {regionNameOf(r.code, r.name) ? (
                  <>
                    {r.name} <span className="muted">{r.code}</span>
                  </>
                ) : (
                  r.code
                )}
              </th>
              <td className="num">
                {r.report ? <Rate rate={r.report.rate} /> : t('stats.unavailableShort')}
              </td>
              <td className="num">{r.report ? number(r.report.selfResolved) : '—'}</td>
              <td className="num">{r.report ? number(r.report.escalated) : '—'}</td>
              <td className="num">
                {r.report ? <Rate rate={r.report.merchantOnTimeResponseRate} /> : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
