import { problemOf } from './problem';

describe('problemOf', () => {
  it('keeps extra members but never lets them replace the problem members', () => {
    const p = problemOf('INVALID_TRANSITION', 'no', {
      status: 'resolved',
      code: 'X',
      complaintId: 'c1',
    });
    expect(p.status).toBe(409);
    expect(p.code).toBe('INVALID_TRANSITION');
    expect(p.complaintId).toBe('c1');
  });
});
