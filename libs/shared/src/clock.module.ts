import { Module } from '@nestjs/common';
import { CLOCK, systemClock } from './clock';

/**
 * The domain clock (CLOCK) for every lib that asks what time it is: one provider, so the API and
 * the worker have one "now", and a test that overrides CLOCK (test/helpers/test-app.ts) moves
 * all of it — receipts' freshness checks as well as the complaints' deadlines.
 */
@Module({
  providers: [{ provide: CLOCK, useValue: systemClock }],
  exports: [CLOCK],
})
export class ClockModule {}
