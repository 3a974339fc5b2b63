import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export const SCENARIOS = ['intake', 'complaints', 'escalation', 'stats', 'refunds'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** How big each scenario runs: `small` is the default (all of it in a few minutes), `full` the sizes. */
export interface Sizes {
  scale: 'quick' | 'small' | 'full';
  /** Seconds of measured load per autocannon run, after a warm-up of `warmupSeconds`. */
  loadSeconds: number;
  warmupSeconds: number;
  connections: number[];
  /** Distinct signed notifications / receipts prepared per intake run (a run stops early at the end). */
  alipayPool: number;
  genericPool: number;
  complaintPool: number;
  batchReceipts: number;
  batchLinesPerRequest: number;
  escalationTickets: number;
  /** Ticket histories for the statistics scenario: the first is the baseline (100k). */
  statsHistories: number[];
  statsSeconds: number;
  statsConnections: number;
}

export const SMALL: Sizes = {
  scale: 'small',
  loadSeconds: 5,
  warmupSeconds: 1,
  connections: [32, 128],
  alipayPool: 16_000,
  genericPool: 30_000,
  complaintPool: 20_000,
  batchReceipts: 100_000,
  batchLinesPerRequest: 50_000,
  escalationTickets: 20_000,
  statsHistories: [100_000, 1_000_000],
  statsSeconds: 4,
  statsConnections: 4,
};

export const FULL: Sizes = {
  scale: 'full',
  loadSeconds: 20,
  warmupSeconds: 3,
  connections: [32, 128],
  alipayPool: 120_000,
  genericPool: 150_000,
  complaintPool: 100_000,
  batchReceipts: 1_000_000,
  batchLinesPerRequest: 50_000,
  escalationTickets: 200_000,
  statsHistories: [100_000, 10_000_000],
  statsSeconds: 15,
  statsConnections: 4,
};

/** A smoke test of the benchmark code itself (seconds per scenario); its figures mean little. */
export const QUICK: Sizes = {
  scale: 'quick',
  loadSeconds: 2,
  warmupSeconds: 1,
  connections: [32, 128],
  alipayPool: 3_000,
  genericPool: 5_000,
  complaintPool: 4_000,
  batchReceipts: 10_000,
  batchLinesPerRequest: 5_000,
  escalationTickets: 2_000,
  statsHistories: [10_000, 50_000],
  statsSeconds: 2,
  statsConnections: 4,
};

export interface Options {
  sizes: Sizes;
  scenarios: ScenarioName[];
  /** Where the figures go as JSON too (default reports/bench-<scale>.json; reports/ is git-ignored). */
  json?: string;
  /** Run the API and worker under --cpu-prof; profiles land in reports/bench-profiles/<run>/. */
  cpuProf: boolean;
  /** Keep the bench databases (for inspection) instead of dropping them. */
  keepDb: boolean;
  /**
   * stats: one kept database per history size (hejie_bench_stats_keep_<tickets>), reused by the
   * next run with --reuse-db (pending migrations applied, the history not generated again).
   */
  reuseDb?: boolean;
  /** Skip the "dist is stale → npm run build" check. */
  noBuild: boolean;
  /** Run the API and worker with --max-old-space-size=<MB> (default: Node's own limit). */
  maxOldSpaceMb?: number;
  /** Run the API and worker with --max-semi-space-size=<MB> instead of start:api's (A/B runs). */
  maxSemiSpaceMb?: number;
  /** refunds: only POST /v1/refunds/batch and its COPY floor (no single refunds, no receipt batch). */
  refundBatchOnly?: boolean;
}

export function parseArgs(argv: string[], only?: ScenarioName): Options {
  const opts: Options = {
    sizes: SMALL,
    scenarios: only ? [only] : [...SCENARIOS],
    cpuProf: false,
    keepDb: false,
    reuseDb: false,
    noBuild: false,
    refundBatchOnly: false,
  };
  const named: ScenarioName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') opts.sizes = FULL;
    else if (a === '--small') opts.sizes = SMALL;
    else if (a === '--quick') opts.sizes = QUICK;
    else if (a === '--json') opts.json = argv[++i];
    else if (a === '--cpu-prof') opts.cpuProf = true;
    else if (a === '--keep-db') opts.keepDb = true;
    else if (a === '--reuse-db') opts.reuseDb = true;
    else if (a === '--no-build') opts.noBuild = true;
    else if (a === '--refund-batch-only') opts.refundBatchOnly = true;
    else if (a.startsWith('--max-old-space-size=')) opts.maxOldSpaceMb = Number(a.split('=')[1]);
    else if (a.startsWith('--max-semi-space-size=')) opts.maxSemiSpaceMb = Number(a.split('=')[1]);
    else if ((SCENARIOS as readonly string[]).includes(a)) named.push(a as ScenarioName);
    else if (a === '--help' || a === '-h') {
      console.log(
        `usage: npm run bench -- [--full|--quick] [--json FILE] [--cpu-prof] [--keep-db] [--reuse-db] [--no-build] [--max-old-space-size=MB] [--max-semi-space-size=MB] [--refund-batch-only] [${SCENARIOS.join('|')} …]`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (named.length && !only) opts.scenarios = named;
  return opts;
}

export function log(msg: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[${t}] ${msg}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
