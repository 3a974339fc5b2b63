/** Job names of the statistics rollups (job name → queue), merged into the registry in jobs/jobs.ts. */
export const STATS_QUEUE = 'stats';
export const STATS_JOBS: Record<string, string> = {
  /** Periodic: drain the outbox's 'stats' rows into the rollups. */
  'stats.drain': STATS_QUEUE,
};
