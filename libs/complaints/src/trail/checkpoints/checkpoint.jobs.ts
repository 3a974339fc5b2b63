/** Job names of the trail checkpoints (job name → queue), merged into the registry in jobs/jobs.ts. */
export const CHECKPOINTS_QUEUE = 'checkpoints';
export const CHECKPOINT_JOBS: Record<string, string> = {
  /** Periodic (CHECKPOINT_INTERVAL): sign a checkpoint of the tickets changed since the last one. */
  'trail.checkpoint': CHECKPOINTS_QUEUE,
};
