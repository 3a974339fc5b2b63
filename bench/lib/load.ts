import { readFileSync } from 'node:fs';
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
  /**
   * CPU time (user + system) the server process spent per completed request during the run,
   * in ms, when its pid was given: less distorted by other load on the machine than req/s.
   */
  cpuMsPerRequest?: number;
}

/** User + system CPU of a process so far, in ms (/proc/<pid>/stat); null without /proc. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of the line) in clock ticks of 10 ms (CLK_TCK 100).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
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
  /** The server's pid: report its CPU time per request. */
  pid?: number;
}): Promise<LoadResult> {
  const { pool, connections } = opts;
  let i = 0;
  // autocannon prepares a request or so ahead per connection: keep a margin inside the pool.
  const max = opts.cycle ? Infinity : Math.max(connections, pool.length - connections - 8);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const cpuBefore = opts.pid ? cpuMs(opts.pid) : null;
    // autocannon's histogram records whole milliseconds (hdr-histogram, lowest value 1): a p99
    // of "7" is anything from 7.0 to 7.99 ms. The 2xx answers' own latencies, in µs, instead.
    const latencies: number[] = [];
    const instance = autocannon(
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
        const cpuAfter = opts.pid ? cpuMs(opts.pid) : null;
        latencies.sort((a, b) => a - b);
        const statusCodes: Record<string, number> = {};
        for (const [code, s] of Object.entries(result.statusCodeStats ?? {}))
          statusCodes[code] = s.count;
        resolve({
          connections,
          rps: result.requests.total / seconds,
          p50: latencies.length ? percentile(latencies, 50) : result.latency.p50,
          p99: latencies.length ? percentile(latencies, 99) : result.latency.p99,
          requests: result.requests.total,
          seconds,
          errors: result.errors + result.timeouts + result.non2xx,
          statusCodes,
          poolEnded: result.requests.total >= max,
          ...(cpuBefore !== null && cpuAfter !== null && result.requests.total
            ? { cpuMsPerRequest: (cpuAfter - cpuBefore) / result.requests.total }
            : {}),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
    });
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
