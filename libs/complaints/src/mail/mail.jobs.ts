/** Job names of merchant e-mail (job name → queue), merged into the registry in jobs/jobs.ts. */
export const MAIL_QUEUE = 'mail';
export const MAIL_SEND_JOB = 'mail.send';
export const MAIL_JOBS: Record<string, string> = {
  /** Periodic: queue the 24-hour reminders that fell due, then send the due mails of the outbox. */
  [MAIL_SEND_JOB]: MAIL_QUEUE,
};
