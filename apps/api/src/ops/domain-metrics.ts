import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import {
  AppealsService,
  CalendarService,
  DEADLINES_QUEUE,
  PartitionsService,
  RegulatorUseCase,
  STATS_QUEUE,
  StatsService,
  WEBHOOKS_QUEUE,
} from '@app/complaints';
import { Counter, Gauge, metricsRegistry } from '@app/shared';

interface Sources {
  regulator: RegulatorUseCase;
  appeals: AppealsService;
  calendar: CalendarService;
  stats: StatsService;
  partitions: PartitionsService;
  queues: Queue[];
}

type RegionRate = Awaited<ReturnType<StatsService['metricsSnapshot']>>['rateByRegion'][number];

/**
 * The gauges are registered once per process and read from the application started last that
 * is still running: when it closes, the one started before it answers again (a process may run
 * more than one application, as the tests do).
 */
const running: Sources[] = [];
const current = (): Sources | undefined => running[running.length - 1];

/**
 * A metric read at scrape time (reset, then set by `collect`) from the application started last.
 * A Counter so read from PostgreSQL is monotonic, as the rollups only grow, so `rate()` works on
 * it whichever process counted.
 */
function fromSources<M extends Gauge | Counter>(
  Metric: new (config: {
    name: string;
    help: string;
    labelNames: string[];
    registers: (typeof metricsRegistry)[];
    collect: (this: M) => Promise<void>;
  }) => M,
  name: string,
  help: string,
  labelNames: string[],
  collect: (metric: M) => Promise<void>,
): void {
  if (metricsRegistry.getSingleMetric(name)) return;
  new Metric({
    name,
    help,
    labelNames,
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      if (current()) await collect(this);
    },
  });
}

function gauge(
  name: string,
  help: string,
  labelNames: string[],
  collect: (g: Gauge) => Promise<void>,
) {
  fromSources(Gauge, name, help, labelNames, collect);
}

/** A rate per region of the last 30 days' metrics snapshot (regions without one omitted). */
function regionRateGauge(name: string, help: string, pick: (r: RegionRate) => number | null): void {
  gauge(name, help, ['region'], async (g) => {
    for (const r of (await current()!.stats.metricsSnapshot()).rateByRegion) {
      const rate = pick(r);
      if (rate !== null) g.set({ region: r.regionCode }, rate);
    }
  });
}

/** Tickets per office (null: the unassigned queue). */
function officeGauge(
  name: string,
  help: string,
  rows: () => Promise<{ officeId: string | null; n: number }[]>,
): void {
  gauge(name, help, ['office'], async (g) => {
    for (const r of await rows()) g.set({ office: r.officeId ?? 'unassigned' }, r.n);
  });
}

/**
 * Domain figures on /metrics, computed at scrape time from PostgreSQL and BullMQ, so they are
 * right whichever process (API or worker) changed the data.
 */
@Injectable()
export class DomainMetrics implements OnModuleInit, OnModuleDestroy {
  private sources?: Sources;

  constructor(
    private readonly regulator: RegulatorUseCase,
    private readonly appeals: AppealsService,
    private readonly stats: StatsService,
    private readonly calendar: CalendarService,
    private readonly partitions: PartitionsService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const queues = [DEADLINES_QUEUE, STATS_QUEUE, WEBHOOKS_QUEUE]
      .map((name) => this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }))
      .filter(Boolean);
    this.sources = {
      regulator: this.regulator,
      appeals: this.appeals,
      calendar: this.calendar,
      stats: this.stats,
      partitions: this.partitions,
      queues,
    };
    running.push(this.sources);

    gauge('hejie_queue_jobs', 'BullMQ jobs per queue and state', ['queue', 'state'], async (g) => {
      for (const q of current()!.queues) {
        const counts = await q.getJobCounts('waiting', 'delayed', 'active', 'failed');
        for (const [state, n] of Object.entries(counts)) g.set({ queue: q.name, state }, n);
      }
    });
    fromSources(
      Counter,
      'hejie_escalations_total',
      'Tickets escalated, by reason (from the rollups)',
      ['reason'],
      async (c) => {
        const snap = await current()!.stats.metricsSnapshot();
        for (const [reason, n] of Object.entries(snap.escalationsByReason)) c.inc({ reason }, n);
      },
    );
    regionRateGauge(
      'hejie_self_resolution_rate',
      'Self-resolution rate per region, last 30 days (regions with no decided ticket omitted)',
      (r) => r.rate,
    );
    regionRateGauge(
      'hejie_verified_self_resolution_rate',
      'Verified self-resolution rate per region, last 30 days: settled by a recorded refund or the consumer, ÷ (self-resolved + escalated)',
      (r) => r.verifiedRate,
    );
    officeGauge(
      'hejie_regulator_acceptance_overdue',
      'Escalated tickets past acceptBy without an acceptance decision, per office',
      () => current()!.regulator.countAcceptanceOverdue(),
    );
    officeGauge(
      'hejie_appeal_review_overdue',
      'Appealed tickets past reviewBy without a decision, per office',
      () => current()!.appeals.countReviewOverdue(),
    );
    gauge(
      'hejie_partitions_past_retention',
      'Monthly partitions of receipts/refunds older than PARTITION_RETENTION_MONTHS still present: kept because a ticket references a receipt of the month, or not yet dropped (table busy)',
      ['table'],
      async (g) => {
        for (const p of await current()!.partitions.pastRetention()) g.inc({ table: p.table });
      },
    );
    this.registerCalendarGauges();
  }

  private registerCalendarGauges(): void {
    gauge(
      'hejie_calendar_estimated_deadlines',
      'Running regulator deadlines counted on an estimated calendar year (no official notice loaded), per field',
      ['field'],
      async (g) => {
        for (const r of await current()!.regulator.countEstimatedDeadlines())
          g.set({ field: r.field }, r.n);
      },
    );
    gauge(
      'hejie_calendar_official_missing',
      '1 for each year without an official holiday arrangement loaded that deadlines counted within the next 60 days will reach (the longest limit of the rule sets)',
      ['year'],
      async (g) => {
        for (const year of await current()!.calendar.yearsWithoutOfficialData())
          g.set({ year: String(year) }, 1);
      },
    );
  }

  onModuleDestroy(): void {
    const at = this.sources ? running.indexOf(this.sources) : -1;
    if (at >= 0) running.splice(at, 1);
  }
}
