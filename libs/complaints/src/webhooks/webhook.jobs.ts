/** Job names of merchant webhook delivery (job name → queue), merged into the registry in jobs/jobs.ts. */
export const WEBHOOKS_QUEUE = 'webhooks';
export const WEBHOOK_JOBS: Record<string, string> = {};
