import autocannon from 'autocannon';

export interface PreparedRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  connections: number;
  /** Completed requests ÷ wall-clock seconds of the run. */
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  seconds: number;
  /** Socket errors + timeouts + non-2xx answers. */
  errors: number;
  statusCodes: Record<string, number>;
  /** The run ended early because every prepared request had been sent once. */
  poolEnded: boolean;
}

/**
 * One autocannon run in this process. Each request is the next one from `pool` (distinct
 * receipts, distinct notifications…); the run lasts `seconds` or until the pool is used up.
 */
export function runLoad(opts: {
  url: string;
  connections: number;
  seconds: number;
  pool: PreparedRequest[];
  /** Send the pool round and round (reads) instead of each request once (writes). */
  cycle?: boolean;
}): Promise<LoadResult> {
  const { pool, connections } = opts;
  let i = 0;
  // autocannon prepares a request or so ahead per connection: keep a margin inside the pool.
  const max = opts.cycle ? Infinity : Math.max(connections, pool.length - connections - 8);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    autocannon(
      {
        url: opts.url,
        connections,
        duration: opts.seconds,
        ...(Number.isFinite(max) ? { maxOverallRequests: max } : {}),
        timeout: 30,
        requests: [
          {
            setupRequest: (req) => {
              const r = pool[opts.cycle ? i++ % pool.length : Math.min(i++, pool.length - 1)];
              return { ...req, method: r.method, path: r.path, headers: r.headers, body: r.body };
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const statusCodes: Record<string, number> = {};
        for (const [code, s] of Object.entries(result.statusCodeStats ?? {}))
          statusCodes[code] = s.count;
        resolve({
          connections,
          rps: result.requests.total / seconds,
          p50: result.latency.p50,
          p99: result.latency.p99,
          requests: result.requests.total,
          seconds,
          errors: result.errors + result.timeouts + result.non2xx,
          statusCodes,
          poolEnded: result.requests.total >= max,
        });
      },
    );
  });
}

export interface LatencyResult {
  p50: number;
  p99: number;
  rps: number;
  samples: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** `concurrency` loops calling `op` for `seconds`; per-call latency percentiles in ms. */
export async function measureLoop(
  op: (worker: number) => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<LatencyResult> {
  const times: number[] = [];
  const end = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        await op(w);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    rps: times.length / elapsed,
    samples: times.length,
  };
}
