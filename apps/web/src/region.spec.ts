import { describe, expect, it } from '@jest/globals';
import { regionLabel, regionNameOf } from './region';

describe('regionLabel', () => {
  it('a named district: its name, then its code', () => {
    expect(regionLabel('330106', '西湖区')).toBe('西湖区 330106');
  });

  it('a code the dataset does not name, or no name: the code once', () => {
    expect(regionLabel('330199', '330199')).toBe('330199');
    expect(regionLabel('330199', null)).toBe('330199');
    expect(regionLabel('330199')).toBe('330199');
    expect(regionNameOf('330199', '330199')).toBeNull();
    expect(regionNameOf('330106', '西湖区')).toBe('西湖区');
  });
});
