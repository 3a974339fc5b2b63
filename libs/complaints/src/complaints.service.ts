import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor, Page } from '@app/shared';
import type { TrailEvent } from './trail';
import type {
  DeclineReason,
  DemandType,
  EscalationReason,
  NewComplaint,
  OfferView,
  TicketView,
} from './complaint.types';
import type { ExtendableDeadline } from './rules/extensions';
import type { BatchContext } from './changes/change';
import { IntakeUseCase } from './use-cases/intake';
import type { CreateResult } from './use-cases/intake';
import { ReadingUseCase } from './use-cases/reading';
import type { ListQuery } from './use-cases/reading';
import { NegotiationUseCase } from './use-cases/negotiation';
import { EscalationUseCase } from './use-cases/escalation';
import { RegulatorUseCase } from './use-cases/regulator';

/**
 * The complaints domain as the API controllers and the worker's processors call it: a facade
 * that only delegates. The domain itself is the use cases (use-cases/: intake, reading,
 * negotiation, escalation, regulator) over one transition path and one change writer
 * (changes/); the other services of this lib (settlement, appeals, evidence, case packet,
 * checkpoints) depend on those directly, never on this facade.
 */
@Injectable()
export class ComplaintsService {
  constructor(
    private readonly intake: IntakeUseCase,
    private readonly reading: ReadingUseCase,
    private readonly negotiation: NegotiationUseCase,
    private readonly escalations: EscalationUseCase,
    private readonly regulator: RegulatorUseCase,
  ) {}

  // intake
  create(actor: Actor, input: NewComplaint, idempotencyKey?: string): Promise<CreateResult> {
    return this.intake.create(actor, input, idempotencyKey);
  }

  // reading
  get(id: string, actor: Actor): Promise<TicketView> {
    return this.reading.get(id, actor);
  }
  list(actor: Actor, q: ListQuery): Promise<Page<TicketView>> {
    return this.reading.list(actor, q);
  }
  events(id: string, actor: Actor): Promise<TrailEvent[]> {
    return this.reading.events(id, actor);
  }
  verify(
    id: string,
    actor: Actor,
  ): Promise<{ valid: boolean; length: number; firstInvalidSeq?: number }> {
    return this.reading.verify(id, actor);
  }
  offers(id: string, actor: Actor): Promise<OfferView[]> {
    return this.reading.offers(id, actor);
  }
  // negotiation
  message(id: string, actor: Actor, body: string): Promise<{ seq: number; at: string }> {
    return this.negotiation.message(id, actor, body);
  }
  makeOffer(
    id: string,
    actor: Actor,
    offer: { type: DemandType; amountMinor?: number; note?: string },
  ): Promise<OfferView> {
    return this.negotiation.makeOffer(id, actor, offer);
  }
  acceptOffer(id: string, actor: Actor, offerId: string): Promise<TicketView> {
    return this.negotiation.acceptOffer(id, actor, offerId);
  }
  rejectOffer(id: string, actor: Actor, offerId: string, reason?: string): Promise<TicketView> {
    return this.negotiation.rejectOffer(id, actor, offerId, reason);
  }
  withdraw(id: string, actor: Actor, reason?: string): Promise<TicketView> {
    return this.negotiation.withdraw(id, actor, reason);
  }

  // escalation
  escalate(
    id: string,
    actor: Actor,
    reason: string,
    alongside?: (tx: EntityManager) => Promise<void>,
  ): Promise<TicketView> {
    return this.escalations.escalate(id, actor, reason, alongside);
  }
  escalateIfDue(id: string, outer?: BatchContext): Promise<EscalationReason | false> {
    return this.escalations.escalateIfDue(id, outer);
  }
  sweepBatch(
    limit: number,
  ): Promise<{ escalated: number; terminated: number; scheduled: Promise<void> }> {
    return this.escalations.sweepBatch(limit);
  }
  // regulator
  acceptCase(id: string, actor: Actor): Promise<TicketView> {
    return this.regulator.acceptCase(id, actor);
  }
  decline(id: string, actor: Actor, reason: DeclineReason, detail?: string): Promise<TicketView> {
    return this.regulator.decline(id, actor, reason, detail);
  }
  transfer(id: string, actor: Actor, officeId: string): Promise<TicketView> {
    return this.regulator.transfer(id, actor, officeId);
  }
  recordMediation(
    id: string,
    actor: Actor,
    outcome: 'agreement' | 'failed',
    note?: string,
    settlement?: string,
  ): Promise<TicketView> {
    return this.regulator.recordMediation(id, actor, outcome, note, settlement);
  }
  terminateMediationIfDue(id: string, outer?: BatchContext): Promise<boolean> {
    return this.regulator.terminateMediationIfDue(id, outer);
  }
  extend(
    id: string,
    actor: Actor,
    deadline: ExtendableDeadline,
    workdays: number,
    reason: string,
  ): Promise<TicketView> {
    return this.regulator.extend(id, actor, deadline, workdays, reason);
  }
  rebaseBatch(limit: number): Promise<{ changed: number }> {
    return this.regulator.rebaseBatch(limit);
  }
  countEstimatedDeadlines(): Promise<{ field: string; n: number }[]> {
    return this.regulator.countEstimatedDeadlines();
  }
  countAcceptanceOverdue(): Promise<{ officeId: string | null; n: number }[]> {
    return this.regulator.countAcceptanceOverdue();
  }
}
