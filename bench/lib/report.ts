import { cpus, totalmem } from 'node:os';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { adminUrl } from './db';
import { REDIS_URL } from './setup';

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface Check {
  target: string;
  measured: string;
  /** null: not evaluated (skipped). */
  pass: boolean | null;
}

export interface MemorySample {
  scenario: string;
  process: string;
  peakRssMb: number | null;
}

export interface ScenarioReport {
  name: string;
  title: string;
  tables: Table[];
  checks: Check[];
  notes: string[];
  memory: MemorySample[];
  raw: Record<string, unknown>;
}

export function newReport(name: string, title: string): ScenarioReport {
  return { name, title, tables: [], checks: [], notes: [], memory: [], raw: {} };
}

export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
export const pct = (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)}%` : '–');

export function markdownTable(t: Table): string {
  const head = `| ${t.columns.join(' | ')} |`;
  const sep = `|${t.columns.map((c, i) => (i === 0 ? '---' : '---:')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${r.join(' | ')} |`);
  return [`**${t.title}**`, '', head, sep, ...rows].join('\n');
}

export function printReport(r: ScenarioReport): string {
  const out: string[] = [`### ${r.title}`, ''];
  for (const t of r.tables) out.push(markdownTable(t), '');
  if (r.checks.length) {
    out.push(
      markdownTable({
        title: 'Targets',
        columns: ['target', 'measured', 'result'],
        rows: r.checks.map((c) => [
          c.target,
          c.measured,
          c.pass === null ? 'skipped' : c.pass ? 'PASS' : 'FAIL',
        ]),
      }),
      '',
    );
  }
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.notes.length) out.push('');
  const text = out.join('\n');
  console.log(`\n${text}`);
  return text;
}

export async function machine(): Promise<Record<string, string>> {
  const pool = new Pool({ connectionString: adminUrl(), max: 1 });
  const redis = new Redis(REDIS_URL);
  try {
    const [{ server_version }] = (
      await pool.query<{ server_version: string }>('SHOW server_version')
    ).rows;
    const settings = (
      await pool.query<{ name: string; value: string }>(
        `SELECT name, current_setting(name) AS value FROM pg_settings
          WHERE name IN ('shared_buffers', 'max_connections', 'synchronous_commit', 'work_mem')
          ORDER BY name`,
      )
    ).rows
      .map((s) => `${s.name}=${s.value}`)
      .join(', ');
    const info = await redis.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    const c = cpus();
    return {
      cpu: `${c[0]?.model ?? '?'} × ${c.length}`,
      memory: `${Math.round(totalmem() / 2 ** 30)} GB`,
      node: process.version,
      postgres: `${server_version} (${settings})`,
      redis: redisVersion,
      os: `${process.platform} ${process.arch}`,
    };
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

const RSS_LIMIT_MB = 250;

/** Scenario 5: peak RSS of every API and worker process the scenarios ran (during 2 and 3 above all). */
export function memoryReport(reports: ScenarioReport[]): ScenarioReport | null {
  const samples = reports.flatMap((r) => r.memory);
  if (!samples.length) return null;
  const r = newReport('memory', '5. Memory: peak RSS (VmHWM) per process');
  r.tables.push({
    title: 'Peak resident set size over the whole scenario',
    columns: ['scenario', 'process', 'peak RSS MB'],
    rows: samples.map((m) => [m.scenario, m.process, m.peakRssMb === null ? '–' : m.peakRssMb]),
  });
  for (const m of samples.filter(
    (x) => x.scenario === 'complaints' || x.scenario === 'escalation',
  )) {
    r.checks.push({
      target: `${m.process} during ${m.scenario} < ${RSS_LIMIT_MB} MB`,
      measured: m.peakRssMb === null ? 'no /proc' : `${m.peakRssMb} MB`,
      pass: m.peakRssMb === null ? null : m.peakRssMb < RSS_LIMIT_MB,
    });
  }
  return r;
}
