import { describe, expect, it } from 'vitest';
import { valueHash } from '../../src/domain/import-lanes.js';
import { SeenValues } from '../../src/domain/seen-values.js';

const add = (seen: SeenValues, value: string) => seen.add(valueHash(value));

describe('SeenValues', () => {
  it('answers true for every value added before, whatever the filter holds', () => {
    const seen = new SeenValues(2 ** 12);
    const values = Array.from({ length: 5000 }, (_, i) => `CODE-${i}`);
    for (const value of values) add(seen, value);
    // a full filter (5,000 values in 4,096 bits) flags many new values, but never misses an old one
    expect(values.every((value) => add(seen, value))).toBe(true);
  });

  it('flags few first occurrences by mistake while it has room', () => {
    const seen = new SeenValues(2 ** 20);
    let mistaken = 0;
    for (let i = 0; i < 50_000; i += 1) if (add(seen, `P${i.toString(36).toUpperCase()}-${i}`)) mistaken += 1;
    // 3 bits a value in 64-bit blocks, 50,000 values in 2^20 bits: about 0.1 % expected
    expect(mistaken).toBeLessThan(150);
    expect(add(seen, 'P0-0')).toBe(true);
  });

  it('tells values apart that differ in one character or only by case', () => {
    const seen = new SeenValues();
    expect(add(seen, 'summer-a1')).toBe(false);
    expect(add(seen, 'SUMMER-A1')).toBe(false);
    expect(add(seen, 'summer-a2')).toBe(false);
    expect(add(seen, 'summer-a1')).toBe(true);
  });

  it('takes only a power of two bits', () => {
    expect(() => new SeenValues(1000)).toThrow(RangeError);
  });
});
