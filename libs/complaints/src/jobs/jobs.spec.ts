import { STATS_QUEUE } from '../stats/stats.jobs';
import { WEBHOOKS_QUEUE } from '../webhooks/webhook.jobs';
import { MAIL_QUEUE } from '../mail/mail.jobs';
import { MAINTENANCE_QUEUE } from '../outbox/outbox.jobs';
import { CHECKPOINTS_QUEUE } from '../trail/checkpoints/checkpoint.jobs';
import { DEADLINES_QUEUE, assertOneProcessorPerJob, deadlineJobId } from './jobs';

describe('job registry', () => {
  const ok = {
    [DEADLINES_QUEUE]: { 'deadline.check': 1, 'deadline.sweep': 1, 'deadline.rebase': 1 },
    [STATS_QUEUE]: { 'stats.drain': 1 },
    [WEBHOOKS_QUEUE]: { 'webhooks.deliver': 1 },
    [MAIL_QUEUE]: { 'mail.send': 1 },
    [MAINTENANCE_QUEUE]: { 'outbox.purge': 1, 'partitions.ensure': 1 },
    [CHECKPOINTS_QUEUE]: { 'trail.checkpoint': 1 },
  };

  it('accepts exactly one processor per job name', () => {
    expect(() => assertOneProcessorPerJob(ok)).not.toThrow();
  });

  it('refuses a job name without a processor', () => {
    expect(() => assertOneProcessorPerJob({ [DEADLINES_QUEUE]: { 'deadline.check': 1 } })).toThrow(
      /deadline.sweep/,
    );
  });

  it('refuses a processor for an unknown job', () => {
    expect(() =>
      assertOneProcessorPerJob({
        ...ok,
        [DEADLINES_QUEUE]: { ...ok[DEADLINES_QUEUE], 'deadline.bogus': 1 },
      }),
    ).toThrow(/deadline.bogus/);
  });

  it('refuses a job handled on two queues', () => {
    expect(() => assertOneProcessorPerJob({ ...ok, other: { 'deadline.check': 1 } })).toThrow(
      /two processors|unknown/,
    );
  });

  it('gives one job id per ticket, kind and due time', () => {
    const due = new Date('2026-11-27T10:00:00Z');
    expect(deadlineJobId('t1', 'merchant_response', due)).toBe(
      deadlineJobId('t1', 'merchant_response', new Date(due)),
    );
    expect(deadlineJobId('t1', 'merchant_response', due)).not.toBe(
      deadlineJobId('t1', 'resolution', due),
    );
  });
});
