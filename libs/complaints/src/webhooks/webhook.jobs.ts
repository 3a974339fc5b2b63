/** Job names of merchant webhook delivery (job name → queue), merged into the registry in jobs/jobs.ts. */
export const WEBHOOKS_QUEUE = 'webhooks';
export const WEBHOOK_DELIVER_JOB = 'webhooks.deliver';
export const WEBHOOK_JOBS: Record<string, string> = {
  /** Periodic: POST the due deliveries (claimed with SKIP LOCKED, leased before the call). */
  [WEBHOOK_DELIVER_JOB]: WEBHOOKS_QUEUE,
};
