import { REGION_HOUR_BUCKET_COLUMNS } from '../../../../migrations/1765100100000-RegionHoursInDaily';
import { RESOLVE_HOUR_BUCKETS, resolveBucket } from './measures';
import { REGION_HOUR_COLUMNS, outermostPrefixes, regionRange } from './region-rollups';

describe('REGION_HOUR_COLUMNS', () => {
  it('has a column of stats_region_daily for every bucket resolveBucket gives', () => {
    const buckets = new Set([0, 0.5, 1, 1.5, 30, 96, 100, 720, 721, 10_000].map(resolveBucket));
    expect(Math.max(...buckets)).toBe(RESOLVE_HOUR_BUCKETS.length);
    expect(REGION_HOUR_COLUMNS).toHaveLength(RESOLVE_HOUR_BUCKETS.length + 1);
    for (const b of buckets) expect(REGION_HOUR_COLUMNS[b]).toBe(`hours_bucket_${b}`);
    // The columns the migration created: other buckets need a migration of their own.
    expect(REGION_HOUR_COLUMNS).toHaveLength(REGION_HOUR_BUCKET_COLUMNS);
  });
});

describe('regionRange', () => {
  it('is the prefix up to the next prefix of the same length', () => {
    expect(regionRange('3301')).toEqual({ low: '3301', high: '3302' });
    expect(regionRange('330106')).toEqual({ low: '330106', high: '330107' });
    expect(regionRange('0')).toEqual({ low: '0', high: '1' });
  });

  it('carries over nines, and has no upper bound after a prefix of nines', () => {
    expect(regionRange('3309')).toEqual({ low: '3309', high: '331' });
    expect(regionRange('3999')).toEqual({ low: '3999', high: '4' });
    expect(regionRange('99')).toEqual({ low: '99' });
  });

  it('holds exactly the codes that start with the prefix', () => {
    const codes = ['329999', '330000', '330100', '330106', '330199', '330200', '339999', '340000'];
    for (const prefix of ['33', '3301', '330106', '3399', '9', '0']) {
      const { low, high } = regionRange(prefix);
      const inside = codes.filter((c) => c >= low && (high === undefined || c < high));
      expect([prefix, inside]).toEqual([prefix, codes.filter((c) => c.startsWith(prefix))]);
    }
  });

  it('refuses anything but 1 to 6 digits', () => {
    for (const bad of ['', '33a', '3301061', '-']) expect(() => regionRange(bad)).toThrow();
  });
});

describe('outermostPrefixes', () => {
  it('drops a prefix inside another, and duplicates, and sorts', () => {
    expect(outermostPrefixes(['4601', '330106', '33', '4601', '460105'])).toEqual(['33', '4601']);
    expect(outermostPrefixes(['450103', '4601'])).toEqual(['450103', '4601']);
    expect(outermostPrefixes([])).toEqual([]);
  });
});
