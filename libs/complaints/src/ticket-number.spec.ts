import { ticketNumber } from './use-cases/intake';

describe('ticketNumber', () => {
  it('uses the Asia/Shanghai date of filing (UTC+8), switching at Shanghai midnight', () => {
    expect(ticketNumber(new Date('2026-11-23T15:59:59.999Z'), 42)).toBe('HJ-261123-000042');
    expect(ticketNumber(new Date('2026-11-23T16:00:00.000Z'), 43)).toBe('HJ-261124-000043');
    expect(ticketNumber(new Date('2026-12-31T16:00:00.000Z'), 1)).toBe('HJ-270101-000001');
  });

  it('pads the sequence to six digits and keeps longer ones whole', () => {
    expect(ticketNumber(new Date('2026-01-05T00:00:00Z'), 7)).toBe('HJ-260105-000007');
    expect(ticketNumber(new Date('2026-01-05T00:00:00Z'), 1234567)).toBe('HJ-260105-1234567');
  });
});
