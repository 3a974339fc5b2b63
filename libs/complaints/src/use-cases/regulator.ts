import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CLOCK, DomainError } from '@app/shared';
import type { Actor, Clock } from '@app/shared';
import { DirectoryService } from '@app/directory';
import type { TicketAction } from '../lifecycle';
import type { DeclineReason, TicketView } from '../complaint.types';
import { DeadlineScheduler } from '../jobs/deadline-scheduler';
import type { Deadline } from '../jobs/deadline-scheduler';
import { assertPacketComplete } from '../case-packet/packet-rules';
import { CalendarService } from '../calendar/calendar.service';
import {
  DEADLINE_FIELDS,
  DeadlineBasis,
  clampRecomputed,
  recomputeDeadline,
  staleYears,
} from '../calendar/deadlines';
import { RulesService } from '../rules/rules.service';
import { extensionOf, type ExtendableDeadline } from '../rules/extensions';
import { TicketTransitions } from '../changes/transitions';
import { SWEEPER, decidedBy, inBatch, withBasis } from '../changes/change';
import type { BatchContext, Change, Performer } from '../changes/change';
import { MEDIATION_TIMEOUT } from '../policy/due-rules';
import { ReadingUseCase } from './reading';
import { acceptBy, mediationEndBy, overduePerOffice } from './shared';

/**
 * The regulator phase: the office accepts, declines, transfers, records the mediation, extends
 * a deadline; the worker terminates mediation past its time limit and recomputes deadlines when
 * an official calendar arrives; counts for the metrics.
 */
@Injectable()
export class RegulatorUseCase {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly directory: DirectoryService,
    private readonly scheduler: DeadlineScheduler,
    private readonly calendar: CalendarService,
    private readonly rules: RulesService,
    private readonly transitions: TicketTransitions,
    private readonly reading: ReadingUseCase,
  ) {}

  async acceptCase(id: string, actor: Actor): Promise<TicketView> {
    const calendar = await this.calendar.snapshot();
    await this.transitions.transition(id, actor, 'accept_case', async (t, now, tx) => {
      // 422 CASE_PACKET_INCOMPLETE naming what is missing (case-packet/packet-rules.ts).
      await assertPacketComplete(tx, t);
      const { at: endBy, basis } = mediationEndBy(calendar, now, this.rules.ticketRules(t));
      return {
        set: {
          accepted_at: now,
          mediation_end_by: endBy,
          deadline_basis: withBasis(t, 'mediationEndBy', basis),
        },
        event: {
          type: 'accepted',
          data: { officeId: actor.officeId ?? null, mediationEndBy: endBy.toISOString() },
        },
        deadlines: [{ complaintId: id, kind: 'mediation', dueAt: endBy }],
      };
    });
    return this.reading.view(id, actor, this.clock.now());
  }

  async decline(
    id: string,
    actor: Actor,
    reason: DeclineReason,
    detail?: string,
  ): Promise<TicketView> {
    await this.transitions.transition(id, actor, 'decline', (_t, now) => ({
      set: {
        decline_reason: reason,
        decline_detail: detail ?? null,
        closed_at: now,
        ...decidedBy(actor, now),
      },
      event: { type: 'declined', data: { reason, detail: detail ?? null } },
    }));
    return this.reading.view(id, actor, this.clock.now());
  }

  /** Hands the case to another office, which gets its own acceptance period from now. */
  async transfer(id: string, actor: Actor, officeId: string): Promise<TicketView> {
    await this.directory.getOffice(officeId);
    const calendar = await this.calendar.snapshot();
    await this.transitions.transition(id, actor, 'transfer', (t, now) => {
      if (t.office_id === officeId) {
        throw new DomainError('VALIDATION_FAILED', 'the ticket is already with that office', {}, [
          { field: 'officeId', message: 'same office' },
        ]);
      }
      // The ticket keeps the rule set it was escalated under (API.md), whatever the new office's.
      const accept = acceptBy(calendar, now, this.rules.ticketRules(t));
      const acceptByAt = accept.at;
      return {
        set: {
          office_id: officeId,
          accept_by: acceptByAt,
          deadline_basis: withBasis(t, 'acceptBy', accept.basis),
        },
        event: {
          type: 'transferred',
          data: { from: t.office_id, to: officeId, acceptBy: acceptByAt.toISOString() },
        },
        deadlines: [{ complaintId: id, kind: 'acceptance', dueAt: acceptByAt }],
      };
    });
    // The caller may no longer see it; answer with what the new office sees.
    return this.reading.view(id, { role: 'admin', sub: actor.sub }, this.clock.now(), actor);
  }

  async recordMediation(
    id: string,
    actor: Actor,
    outcome: 'agreement' | 'failed',
    note?: string,
    settlement?: string,
  ): Promise<TicketView> {
    const action: TicketAction =
      outcome === 'agreement' ? 'record_mediation_agreement' : 'record_mediation_failure';
    await this.transitions.transition(id, actor, action, (_t, now) =>
      mediationEnded(
        {
          outcome,
          reason: outcome === 'failed' ? 'no_agreement' : null,
          note: note ?? null,
          settlement: settlement ?? null,
        },
        actor,
        now,
      ),
    );
    return this.reading.view(id, actor, this.clock.now());
  }

  /** Worker: mediation that ran past its working-day limit is terminated. */
  async terminateMediationIfDue(id: string, outer?: BatchContext): Promise<boolean> {
    let done = false;
    await this.transitions.transition(
      id,
      SWEEPER,
      (t) => (MEDIATION_TIMEOUT.isDue(t, this.clock.now()) ? MEDIATION_TIMEOUT.action : null),
      (_t, now) => {
        done = true;
        return mediationEnded(
          { outcome: 'failed', reason: 'time_limit', note: null, settlement: null },
          SWEEPER,
          now,
        );
      },
      outer,
    );
    return done;
  }

  /**
   * POST /v1/complaints/:id/extend: the office extends the running deadline once, by 1 to the
   * ticket's set's maximum working days, with a reason the consumer sees (rules/extensions.ts).
   * One guarded write with its `deadline_extended` event.
   */
  async extend(
    id: string,
    actor: Actor,
    deadline: ExtendableDeadline,
    workdays: number,
    reason: string,
  ): Promise<TicketView> {
    const calendar = await this.calendar.snapshot();
    await this.transitions.transition(id, actor, 'extend_deadline', (t, now) => {
      const rules = this.rules.ticketRules(t);
      const field = DEADLINE_FIELDS[deadline];
      const old = t[field.column as 'accept_by' | 'mediation_end_by'];
      const current = t.deadline_basis?.[deadline] as DeadlineBasis | undefined;
      extensionOf(t, deadline, workdays, rules, current?.from);
      // The limit as counted so far (its basis), or — a ticket from before bases existed —
      // counted again from its start under its set.
      const base: DeadlineBasis =
        current ??
        (deadline === 'acceptBy'
          ? acceptBy(calendar, t.escalated_at ?? now, rules).basis
          : mediationEndBy(calendar, t.accepted_at ?? now, rules).basis);
      const next = recomputeDeadline(calendar, { ...base, workdays: base.workdays + workdays });
      const entry = {
        deadline,
        workdays,
        reason,
        at: now.toISOString(),
        by: { role: actor.role, id: actor.sub },
        from: old ? old.toISOString() : null,
        to: next.at.toISOString(),
      };
      const extensions = [...(Array.isArray(t.extensions) ? t.extensions : []), entry];
      return {
        set: {
          [field.column]: next.at,
          deadline_basis: withBasis(t, deadline, next.basis),
          extensions: JSON.stringify(extensions),
        },
        event: { type: 'deadline_extended', data: entry },
        deadlines: [{ complaintId: id, kind: field.kind as Deadline['kind'], dueAt: next.at }],
      };
    });
    return this.reading.view(id, actor, this.clock.now());
  }

  /**
   * A year's official calendar was loaded (or a newer version of it): the running deadlines
   * counted on an estimate or an older version of a year are recomputed, each exactly once, with
   * an event `deadline_changed` { field, from, to, calendarVersion } — also when the date stays
   * (the trail records that it is now official). Rows are taken FOR UPDATE SKIP LOCKED and
   * re-checked under the lock, so parallel workers never change a ticket twice; none moves into
   * the past (clampRecomputed). Returns how many tickets changed (fewer than `limit`: done).
   */
  async rebaseBatch(limit: number): Promise<{ changed: number }> {
    const calendar = await this.calendar.snapshot(true);
    const latest = calendar.latestVersions();
    const { result: changed, deadlines } = await inBatch(this.db, async (ctx) => {
      const { tx } = ctx;
      const where = Object.entries(DEADLINE_FIELDS).map(
        ([field, f]) =>
          `(status = '${f.status}' AND EXISTS (SELECT 1 FROM jsonb_each_text(deadline_basis->'${field}'->'years') y
             WHERE y.value::int < coalesce(($1::jsonb ->> y.key)::int, 0)))`,
      );
      const rows: { id: string }[] = await tx.query(
        `SELECT id FROM complaints WHERE deadline_basis <> '{}'::jsonb AND (${where.join(' OR ')})
          LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [JSON.stringify(latest), limit],
      );
      let n = 0;
      for (const { id } of rows) {
        let stale: [string, DeadlineBasis][] = [];
        const done = await this.transitions.transition(
          id,
          SWEEPER,
          (t) => {
            stale = [];
            for (const [field, f] of Object.entries(DEADLINE_FIELDS)) {
              const b = t.deadline_basis?.[field] as DeadlineBasis | undefined;
              if (f.status === t.status && b && staleYears(b, latest).length)
                stale.push([field, b]);
            }
            return stale.length ? 'recompute_deadline' : null;
          },
          (t, now) => {
            // One deadline runs per status: the first stale one is it.
            const [field, basis] = stale[0];
            const f = DEADLINE_FIELDS[field];
            const old = t[f.column as 'accept_by' | 'mediation_end_by'] as Date;
            const next = recomputeDeadline(calendar, basis);
            const to = clampRecomputed(next.at, old, now);
            const calendarVersion = Math.max(
              ...staleYears(basis, latest).map((y) => latest[y] ?? 0),
            );
            return {
              set: { [f.column]: to, deadline_basis: withBasis(t, field, next.basis) },
              event: {
                type: 'deadline_changed',
                data: {
                  field,
                  from: old.toISOString(),
                  to: to.toISOString(),
                  calendarVersion,
                  basis: next.basis.basis,
                  ...(to.getTime() !== next.at.getTime()
                    ? { clamped: true, computed: next.at.toISOString() }
                    : {}),
                },
              },
              deadlines: [{ complaintId: id, kind: f.kind as Deadline['kind'], dueAt: to }],
            };
          },
          ctx,
        );
        if (done) n++;
      }
      return n;
    });
    await this.scheduler.schedule(deadlines);
    return { changed };
  }

  /** Open deadlines (running in their status) counted on an estimate, per field: a gauge. */
  async countEstimatedDeadlines(): Promise<{ field: string; n: number }[]> {
    const out: { field: string; n: number }[] = [];
    for (const [field, f] of Object.entries(DEADLINE_FIELDS)) {
      const [{ n }]: { n: string }[] = await this.db.query(
        `SELECT count(*) AS n FROM complaints WHERE status = $1 AND deadline_basis->$2->>'basis' = 'estimated'`,
        [f.status, field],
      );
      out.push({ field, n: Number(n) });
    }
    return out;
  }

  /** Escalated tickets past acceptBy without a decision (flagged on the queue; a metric). */
  countAcceptanceOverdue(): Promise<{ officeId: string | null; n: number }[]> {
    return overduePerOffice(this.db, 'acceptBy', this.clock.now());
  }
}

/**
 * A mediation's outcome recorded and the case closed: the office's record (agreement or failed),
 * or the worker's at the time limit. `mediated` for an agreement, `mediation_failed` otherwise.
 */
function mediationEnded(
  result: {
    outcome: 'agreement' | 'failed';
    reason: string | null;
    note: string | null;
    settlement: string | null;
  },
  by: Performer,
  now: Date,
): Change {
  return {
    set: { mediation_outcome: JSON.stringify(result), closed_at: now, ...decidedBy(by, now) },
    event: { type: result.outcome === 'agreement' ? 'mediated' : 'mediation_failed', data: result },
  };
}
