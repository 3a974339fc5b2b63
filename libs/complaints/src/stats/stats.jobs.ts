/** Job names of the statistics rollups (queue name → job names), merged into the registry in jobs/jobs.ts. */
export const STATS_QUEUE = 'stats';
export const STATS_JOBS: Record<string, string> = {};
