/*
 * Scenario 3 — escalation: N tickets past merchantRespondBy appear at once (one committed
 * INSERT while the workers are already up); the workers' sweep (SWEEP_INTERVAL 1s, batches of
 * 500, FOR UPDATE SKIP LOCKED) escalates them. One worker process, then two, then the floor:
 * the bare guarded UPDATE loop in SQL. Checks that each ticket was escalated exactly once, with
 * exactly one 'escalated' event.
 * Run alone: node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/escalation.ts [--full]
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Child } from './lib/apps';
import { CpuSampler } from './lib/cpu-sampler';
import { Options, log, sleep } from './lib/cli';
import { truncate } from './lib/db';
import { ScenarioReport, f0, f1, newReport, pct } from './lib/report';
import {
  BenchStore,
  Stage,
  createMerchantWithStore,
  createOffice,
  heapNote,
  openStage,
} from './lib/setup';
import { runStandalone } from './lib/standalone';

/** Receipts and overdue tickets, committed together: the moment they all fall due. */
async function insertDueTickets(stage: Stage, store: BenchStore, n: number): Promise<number> {
  const tag = randomBytes(4).toString('hex');
  const c = await stage.db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(
      `INSERT INTO receipts (provider, trade_no, payer_id, account_id, merchant_id, store_id, region_code,
                             amount_minor, currency, paid_at, subject, fingerprint, raw_notification, raw_content_type)
       SELECT 'bulk', $1 || '-' || g, 'bulk:c' || g, 'acct', $2, $3, $4, 1000, 'CNY', now() - interval '5 days',
              'bulk item', repeat('0', 64), '{}', 'application/json'
         FROM generate_series(1, $5::int) g`,
      [tag, store.merchantId, store.storeId, store.regionCode, n],
    );
    await c.query(
      `INSERT INTO complaints (number, status, receipt_id, consumer_id, merchant_id, store_id, region_code,
                               order_snapshot, category, demand_type, description, merchant_respond_by, resolve_by,
                               created_at, updated_at)
       SELECT 'BULK-' || r.trade_no, 'awaiting_merchant', r.id, r.payer_id, r.merchant_id, r.store_id, r.region_code,
              '{}'::jsonb, 'quality', 'repair', 'bulk complaint text', now() - interval '1 minute',
              now() + interval '3 days', now() - interval '97 hours', now() - interval '97 hours'
         FROM receipts r WHERE r.provider = 'bulk' AND r.trade_no LIKE $1 || '-%'`,
      [tag],
    );
    await c.query('COMMIT');
    return Date.now();
  } finally {
    c.release();
  }
}

/** Whether a ticket still awaits the merchant (polled every 100 ms: stops at the first row). */
async function anyAwaiting(stage: Stage): Promise<boolean> {
  const { rows } = await stage.db.pool.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM complaints WHERE status = 'awaiting_merchant') AS any`,
  );
  return rows[0].any;
}

interface Round {
  label: string;
  tickets: number;
  /** From the moment they fell due to the last escalation. */
  wallSeconds: number;
  /** From the first escalation to the last (the sweep's own pace, without its timer's wait). */
  activeSeconds: number;
  escalated: number;
  events: number;
  ticketsWithOneEvent: number;
  wrongEventCount: number;
  /** CPU ms of the worker processes and of PostgreSQL's backends on this database, per 1,000 tickets. */
  workerCpuMsPer1000?: number;
  pgCpuMsPer1000?: number;
}

async function hejieRound(
  stage: Stage,
  store: BenchStore,
  workers: number,
  report: ScenarioReport,
): Promise<Round> {
  const n = stage.opts.sizes.escalationTickets;
  await truncate(stage.db.pool, ['complaint_events', 'outbox', 'complaints', 'receipts']);
  const procs: Child[] = [];
  for (let i = 1; i <= workers; i++) procs.push(await stage.startWorker(i));
  log(`escalation: ${f0(n)} tickets fall due, ${workers} worker(s)…`);
  const t0 = await insertDueTickets(stage, store, n);
  // From the commit on (the INSERT of the tickets is the bench's, not the sweep's).
  const pids = new Set(procs.map((p) => p.pid));
  const workerCpu = new CpuSampler((pid) => pids.has(pid)).start();
  const pgCpu = new CpuSampler(
    (_pid, cmd) => cmd.startsWith('postgres:') && cmd.includes(` ${stage.db.name} `),
  ).start();
  const deadline = t0 + Math.max(120_000, n * 5);
  while (await anyAwaiting(stage)) {
    if (Date.now() > deadline)
      throw new Error(`tickets still awaiting after ${(deadline - t0) / 1000} s`);
    await sleep(100);
  }
  const workerCpuMs = workerCpu.stop();
  const pgCpuMs = pgCpu.stop();
  const [span] = (
    await stage.db.pool.query<{ first: Date; last: Date; n: number }>(
      `SELECT min(escalated_at) AS first, max(escalated_at) AS last, count(*)::int AS n
         FROM complaints WHERE status = 'escalated'`,
    )
  ).rows;
  const [ev] = (
    await stage.db.pool.query<{ events: number; tickets: number; wrong: number }>(
      `SELECT (SELECT count(*)::int FROM complaint_events WHERE type = 'escalated') AS events,
              (SELECT count(DISTINCT complaint_id)::int FROM complaint_events WHERE type = 'escalated') AS tickets,
              (SELECT count(*)::int FROM complaints WHERE event_count <> 1) AS wrong`,
    )
  ).rows;
  for (const p of procs) {
    report.memory.push({
      scenario: 'escalation',
      process: `worker ${p.name.slice(-1)} of ${workers}`,
      peakRssMb: p.peakRssMb(),
    });
    await p.stop();
  }
  return {
    label: `Hejie, ${workers} worker${workers > 1 ? 's' : ''}`,
    tickets: n,
    wallSeconds: (span.last.getTime() - t0) / 1000,
    activeSeconds: (span.last.getTime() - span.first.getTime()) / 1000,
    escalated: span.n,
    events: ev.events,
    ticketsWithOneEvent: ev.tickets,
    wrongEventCount: ev.wrong,
    workerCpuMsPer1000: (workerCpuMs / n) * 1000,
    pgCpuMsPer1000: (pgCpuMs / n) * 1000,
  };
}

/** The floor: the guarded UPDATE in batches of 500 with SKIP LOCKED, one connection, bare pg. */
async function floorRound(stage: Stage, store: BenchStore, officeId: string): Promise<Round> {
  const n = stage.opts.sizes.escalationTickets;
  await truncate(stage.db.pool, ['complaint_events', 'outbox', 'complaints', 'receipts']);
  await insertDueTickets(stage, store, n);
  log(`escalation: ${f0(n)} tickets, bare SQL loop…`);
  const c = new Client({ connectionString: stage.db.url });
  await c.connect();
  const t0 = Date.now();
  let escalated = 0;
  for (;;) {
    await c.query('BEGIN');
    const { rows } = await c.query<{ id: string }>(
      `SELECT id FROM complaints WHERE status = 'awaiting_merchant' AND merchant_respond_by <= now()
        LIMIT 500 FOR UPDATE SKIP LOCKED`,
    );
    if (!rows.length) {
      await c.query('COMMIT');
      break;
    }
    const r = await c.query(
      `UPDATE complaints SET status = 'escalated', escalated_at = now(), escalation_reason = 'merchant_no_response',
              office_id = $2, accept_by = now() + interval '9 days', updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'awaiting_merchant'`,
      [rows.map((x) => x.id), officeId],
    );
    escalated += r.rowCount ?? 0;
    await c.query('COMMIT');
  }
  const seconds = (Date.now() - t0) / 1000;
  await c.end();
  return {
    label: 'floor: bare SQL loop, 1 connection',
    tickets: n,
    wallSeconds: seconds,
    activeSeconds: seconds,
    escalated,
    events: 0,
    ticketsWithOneEvent: 0,
    wrongEventCount: 0,
  };
}

/**
 * Not the floor: what a set-based sweep that writes what Hejie writes (the guarded UPDATE, one
 * hash-chained 'escalated' event and one outbox row per ticket) costs in bare SQL — one statement
 * per batch of 500. An upper bound for a batched rewrite of the sweep.
 */
async function setBasedRound(stage: Stage, store: BenchStore, officeId: string): Promise<Round> {
  const n = stage.opts.sizes.escalationTickets;
  await truncate(stage.db.pool, ['complaint_events', 'outbox', 'complaints', 'receipts']);
  await insertDueTickets(stage, store, n);
  log(`escalation: ${f0(n)} tickets, set-based SQL with Hejie's writes…`);
  const c = new Client({ connectionString: stage.db.url });
  await c.connect();
  const t0 = Date.now();
  let escalated = 0;
  for (;;) {
    const r = await c.query(
      `WITH due AS (
         SELECT id FROM complaints WHERE status = 'awaiting_merchant' AND merchant_respond_by <= now()
          LIMIT 500 FOR UPDATE SKIP LOCKED
       ), upd AS (
         UPDATE complaints c SET status = 'escalated', escalated_at = now(), escalation_reason = 'merchant_no_response',
                office_id = $1, accept_by = now() + interval '9 days', event_count = c.event_count + 1,
                head_hash = encode(sha256(convert_to(coalesce(c.head_hash, repeat('0', 64)) || c.id::text || 'escalated', 'UTF8')), 'hex'),
                updated_at = now()
           FROM due WHERE c.id = due.id AND c.status = 'awaiting_merchant'
         RETURNING c.id, c.event_count, c.head_hash
       ), ev AS (
         INSERT INTO complaint_events (complaint_id, seq, type, actor_role, actor_id, at, data, prev_hash, hash)
         SELECT id, event_count, 'escalated', 'system', 'deadline-worker', now(),
                jsonb_build_object('reason', 'merchant_no_response', 'consumerReason', NULL, 'officeId', $1::text,
                                   'acceptBy', now() + interval '9 days', 'from', 'awaiting_merchant', 'to', 'escalated'),
                repeat('0', 64), head_hash
           FROM upd
         RETURNING complaint_id, seq, data
       )
       INSERT INTO outbox (topic, complaint_id, event_seq, event_type, payload, created_at)
       SELECT 'stats', complaint_id, seq, 'escalated', jsonb_build_object('status', 'escalated', 'data', data), now()
         FROM ev`,
      [officeId],
    );
    if (!r.rowCount) break;
    escalated += r.rowCount;
  }
  const seconds = (Date.now() - t0) / 1000;
  await c.end();
  const [ev] = (
    await stage.db.pool.query<{ events: number; tickets: number }>(
      `SELECT count(*)::int AS events, count(DISTINCT complaint_id)::int AS tickets
         FROM complaint_events WHERE type = 'escalated'`,
    )
  ).rows;
  return {
    label: "reference: set-based SQL with Hejie's writes, 1 connection",
    tickets: n,
    wallSeconds: seconds,
    activeSeconds: seconds,
    escalated,
    events: ev.events,
    ticketsWithOneEvent: ev.tickets,
    wrongEventCount: 0,
  };
}

export async function escalation(opts: Options): Promise<ScenarioReport> {
  const report = newReport('escalation', '3. Escalation of tickets falling due together');
  const stage = await openStage('escalation', opts);
  try {
    const api = await stage.startApi();
    const store = await createMerchantWithStore(api.url, '330106', ['sunmi-pos']);
    const officeId = await createOffice(api.url, ['3301']);
    const one = await hejieRound(stage, store, 1, report);
    const two = await hejieRound(stage, store, 2, report);
    const floor = await floorRound(stage, store, officeId);
    const setBased = await setBasedRound(stage, store, officeId);
    report.memory.push({
      scenario: 'escalation',
      process: 'api (idle)',
      peakRssMb: api.peakRssMb(),
    });

    const rate = (r: Round) => r.escalated / r.activeSeconds;
    const wallRate = (r: Round) => r.escalated / r.wallSeconds;
    report.tables.push({
      title: `${f0(one.tickets)} tickets falling due together (SWEEP_INTERVAL 1s; Hejie's sweep in batches of 2,000, the floor's of 500)`,
      columns: [
        'case',
        'escalated',
        'tickets/s (first→last)',
        'tickets/s (due→last)',
        'seconds (due→last)',
        "'escalated' events",
        'ratio to floor',
        'worker CPU ms / 1,000 tickets',
        'PostgreSQL CPU ms / 1,000 tickets',
      ],
      rows: [one, two, floor, setBased].map((r) => [
        r.label,
        f0(r.escalated),
        f0(rate(r)),
        f0(wallRate(r)),
        f1(r.wallSeconds),
        r === floor ? 'n/a' : f0(r.events),
        r === floor ? '100%' : pct(rate(r) / rate(floor)),
        r.workerCpuMsPer1000 === undefined ? '' : f0(r.workerCpuMsPer1000),
        r.pgCpuMsPer1000 === undefined ? '' : f0(r.pgCpuMsPer1000),
      ]),
    });
    const once = (r: Round) =>
      r.escalated === r.tickets &&
      r.events === r.tickets &&
      r.ticketsWithOneEvent === r.tickets &&
      r.wrongEventCount === 0;
    report.checks.push(
      {
        target: '1 worker ≥ 40% of the bare SQL sweep tickets/s',
        measured: `${pct(rate(one) / rate(floor))} (${f0(rate(one))} vs ${f0(rate(floor))}/s)`,
        pass: rate(one) / rate(floor) >= 0.4,
      },
      {
        target: '2 workers faster than 1',
        measured: `${f0(rate(two))} vs ${f0(rate(one))}/s (${pct(rate(two) / rate(one))})`,
        pass: rate(two) > rate(one),
      },
      {
        target: 'each ticket escalated exactly once, with one event',
        measured: [one, two]
          .map(
            (r) =>
              `${r.label}: ${f0(r.escalated)}/${f0(r.tickets)} escalated, ${f0(r.events)} events on ${f0(r.ticketsWithOneEvent)} tickets`,
          )
          .join('; '),
        pass: once(one) && once(two),
      },
    );
    report.notes.push(
      "tickets/s (first→last) is the sweep's pace from its first escalation to the last, and is what the ratio uses; (due→last) adds the wait for the next sweep tick (≤ SWEEP_INTERVAL) after the tickets fell due.",
      'Hejie escalates a batch set-based in one transaction: the due rows locked and read whole (one SELECT per kind), office routing once per region, one working-day acceptBy, the hash-chained events computed in the worker, then one guarded UPDATE, one INSERT each for events, outbox rows and webhook deliveries; no Redis job (the regulator deadline acceptBy is read from the row, FLAG_ONLY_DEADLINES). The worker also drains the outbox into the statistics rollups meanwhile. The floor does only the guarded UPDATE (with a constant office and acceptBy).',
    );
    report.notes.push(
      "The reference row is not the floor: the same writes as Hejie (guarded UPDATE, an 'escalated' event and an outbox row per ticket) as one set-based statement per batch of 500 — roughly what a batched rewrite of the sweep could reach (no office routing per region, no Redis jobs).",
    );
    report.notes.push(
      "CPU per 1,000 tickets: user + system time from /proc/<pid>/stat over the round (from the tickets' commit until none awaits), of the worker processes and of PostgreSQL's backends on the scenario's database (the workers' pools and the bench's own polling), whatever else runs on the machine: if one worker's round already keeps every CPU busy, a second worker cannot make it faster.",
      heapNote(opts),
    );
    report.raw = { one, two, floor, setBased };
    return report;
  } finally {
    await stage.close();
  }
}

if (require.main === module) runStandalone('escalation', escalation);
