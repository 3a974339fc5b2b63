/** Job names of housekeeping (job name → queue), merged into the registry in jobs/jobs.ts. */
export const MAINTENANCE_QUEUE = 'maintenance';
export const OUTBOX_PURGE_JOB = 'outbox.purge';
export const PARTITIONS_JOB = 'partitions.ensure';
export const MAINTENANCE_JOBS: Record<string, string> = {
  /** Periodic: delete done outbox rows and delivered webhook deliveries past OUTBOX_RETENTION. */
  [OUTBOX_PURGE_JOB]: MAINTENANCE_QUEUE,
  /** At boot and daily: the monthly partitions of the next months (PartitionsService). */
  [PARTITIONS_JOB]: MAINTENANCE_QUEUE,
};
