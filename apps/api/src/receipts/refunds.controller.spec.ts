import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReceiptIntakeService } from '@app/receipts';
import type { SettlementService } from '@app/complaints';
import { DomainError } from '@app/shared';
import { RefundsController } from './receipts.controller';

describe('RefundsController.create', () => {
  it('an intake that records nothing is a VALIDATION_FAILED problem, never a plain Error, and settles nothing', async () => {
    const intake = {
      fromGenericRefund: jest.fn().mockResolvedValue({ kind: 'nothing_new', reason: 'no delta' }),
    } as unknown as ReceiptIntakeService;
    const settlement = { onRefundRecorded: jest.fn() } as unknown as SettlementService;
    const controller = new RefundsController(intake, settlement);
    const req = {
      headers: { 'content-type': 'application/json', 'x-hejie-signature': 'sha256=00' },
      rawBody: '{}',
    } as unknown as FastifyRequest;
    const reply = { status: jest.fn() } as unknown as FastifyReply;
    const error = await controller.create(req, reply).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(settlement.onRefundRecorded).not.toHaveBeenCalled();
    expect(reply.status).not.toHaveBeenCalled();
  });
});
