import { Injectable } from '@nestjs/common';
import { IntakeUseCase } from './use-cases/intake';
import { ReadingUseCase } from './use-cases/reading';
import { NegotiationUseCase } from './use-cases/negotiation';
import { EscalationUseCase } from './use-cases/escalation';
import { RegulatorUseCase } from './use-cases/regulator';

/**
 * The complaints domain as the API controllers and the worker's processors call it: a facade
 * that only delegates, each method with the signature of the use case it names (no copies).
 * The domain itself is the use cases (use-cases/: intake, reading, negotiation, escalation,
 * regulator) over one transition path and one change writer (changes/); the other services of
 * this lib (settlement, appeals, evidence, case packet, checkpoints) depend on those directly,
 * never on this facade.
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
  create(...a: Parameters<IntakeUseCase['create']>): ReturnType<IntakeUseCase['create']> {
    return this.intake.create(...a);
  }

  // reading
  get(...a: Parameters<ReadingUseCase['get']>): ReturnType<ReadingUseCase['get']> {
    return this.reading.get(...a);
  }
  list(...a: Parameters<ReadingUseCase['list']>): ReturnType<ReadingUseCase['list']> {
    return this.reading.list(...a);
  }
  events(...a: Parameters<ReadingUseCase['events']>): ReturnType<ReadingUseCase['events']> {
    return this.reading.events(...a);
  }
  verify(...a: Parameters<ReadingUseCase['verify']>): ReturnType<ReadingUseCase['verify']> {
    return this.reading.verify(...a);
  }
  offers(...a: Parameters<ReadingUseCase['offers']>): ReturnType<ReadingUseCase['offers']> {
    return this.reading.offers(...a);
  }

  // negotiation
  message(
    ...a: Parameters<NegotiationUseCase['message']>
  ): ReturnType<NegotiationUseCase['message']> {
    return this.negotiation.message(...a);
  }
  makeOffer(
    ...a: Parameters<NegotiationUseCase['makeOffer']>
  ): ReturnType<NegotiationUseCase['makeOffer']> {
    return this.negotiation.makeOffer(...a);
  }
  acceptOffer(
    ...a: Parameters<NegotiationUseCase['acceptOffer']>
  ): ReturnType<NegotiationUseCase['acceptOffer']> {
    return this.negotiation.acceptOffer(...a);
  }
  rejectOffer(
    ...a: Parameters<NegotiationUseCase['rejectOffer']>
  ): ReturnType<NegotiationUseCase['rejectOffer']> {
    return this.negotiation.rejectOffer(...a);
  }
  withdraw(
    ...a: Parameters<NegotiationUseCase['withdraw']>
  ): ReturnType<NegotiationUseCase['withdraw']> {
    return this.negotiation.withdraw(...a);
  }

  // escalation
  escalate(
    ...a: Parameters<EscalationUseCase['escalate']>
  ): ReturnType<EscalationUseCase['escalate']> {
    return this.escalations.escalate(...a);
  }
  escalateIfDue(
    ...a: Parameters<EscalationUseCase['escalateIfDue']>
  ): ReturnType<EscalationUseCase['escalateIfDue']> {
    return this.escalations.escalateIfDue(...a);
  }
  sweepBatch(
    ...a: Parameters<EscalationUseCase['sweepBatch']>
  ): ReturnType<EscalationUseCase['sweepBatch']> {
    return this.escalations.sweepBatch(...a);
  }

  // regulator
  acceptCase(
    ...a: Parameters<RegulatorUseCase['acceptCase']>
  ): ReturnType<RegulatorUseCase['acceptCase']> {
    return this.regulator.acceptCase(...a);
  }
  decline(...a: Parameters<RegulatorUseCase['decline']>): ReturnType<RegulatorUseCase['decline']> {
    return this.regulator.decline(...a);
  }
  transfer(
    ...a: Parameters<RegulatorUseCase['transfer']>
  ): ReturnType<RegulatorUseCase['transfer']> {
    return this.regulator.transfer(...a);
  }
  recordMediation(
    ...a: Parameters<RegulatorUseCase['recordMediation']>
  ): ReturnType<RegulatorUseCase['recordMediation']> {
    return this.regulator.recordMediation(...a);
  }
  terminateMediationIfDue(
    ...a: Parameters<RegulatorUseCase['terminateMediationIfDue']>
  ): ReturnType<RegulatorUseCase['terminateMediationIfDue']> {
    return this.regulator.terminateMediationIfDue(...a);
  }
  extend(...a: Parameters<RegulatorUseCase['extend']>): ReturnType<RegulatorUseCase['extend']> {
    return this.regulator.extend(...a);
  }
  rebaseBatch(
    ...a: Parameters<RegulatorUseCase['rebaseBatch']>
  ): ReturnType<RegulatorUseCase['rebaseBatch']> {
    return this.regulator.rebaseBatch(...a);
  }
  countEstimatedDeadlines(
    ...a: Parameters<RegulatorUseCase['countEstimatedDeadlines']>
  ): ReturnType<RegulatorUseCase['countEstimatedDeadlines']> {
    return this.regulator.countEstimatedDeadlines(...a);
  }
  countAcceptanceOverdue(
    ...a: Parameters<RegulatorUseCase['countAcceptanceOverdue']>
  ): ReturnType<RegulatorUseCase['countAcceptanceOverdue']> {
    return this.regulator.countAcceptanceOverdue(...a);
  }
}
