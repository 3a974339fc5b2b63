import { boundParams } from './queryable';
import { mapPage } from './pagination';

describe('boundParams', () => {
  it('numbers each value in the order it is added and keeps it for the statement', () => {
    const { params, p } = boundParams();
    const sql = `status = ${p('escalated')} AND office_id = ${p(null)} LIMIT ${p(21)}`;
    expect(sql).toBe('status = $1 AND office_id = $2 LIMIT $3');
    expect(params).toEqual(['escalated', null, 21]);
  });
});

describe('mapPage', () => {
  it('shows each item as the view says and keeps the cursor (null on the last page too)', () => {
    expect(mapPage({ items: [1, 2], nextCursor: 'abc' }, (n) => `#${n}`)).toEqual({
      items: ['#1', '#2'],
      nextCursor: 'abc',
    });
    expect(mapPage({ items: [], nextCursor: null }, String)).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});
