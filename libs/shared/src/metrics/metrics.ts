import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process. Metrics are created here, once, so the API, the worker
 * and the libs never register a name twice.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'hejie_' });

export const httpRequestDuration = new Histogram({
  name: 'hejie_http_request_duration_seconds',
  help: 'HTTP request duration by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const receiptsIngested = new Counter({
  name: 'hejie_receipts_ingested_total',
  help: 'Receipts stored, by provider and outcome (created, duplicate, conflict, ignored)',
  labelNames: ['provider', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const replicaLag = new Gauge({
  name: 'hejie_replica_lag_seconds',
  help: 'Replay lag of the read replica at the last check (-1: down or unreachable)',
  registers: [metricsRegistry],
});

export const replicaReads = new Counter({
  name: 'hejie_replica_reads_total',
  help: 'Replica-eligible reads (lists, statistics, live feed) by the server that answered them',
  labelNames: ['target'] as const,
  registers: [metricsRegistry],
});

export const rateLimitUnavailable = new Counter({
  name: 'hejie_rate_limit_unavailable_total',
  help: 'Rate-limit counts that Redis could not take (down, or a cluster failing over): the request was let through',
  registers: [metricsRegistry],
});

export { Counter, Gauge, Histogram };
