import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomFillSync } from 'node:crypto';
import { compileFormat, formatRegExp } from '../../src/domain/format.js';
import { randomBigIntBelow, randomCodes, sampleDistinctIndexes } from '../../src/domain/random.js';

const SEED = "SUMMER-S{string('0-9', 4)}{string('a-Z', 10)}";

function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/**
 * Critical value of the chi-square distribution with `df` degrees of freedom at p = 1e-6
 * (Wilson-Hilferty approximation), so a fair generator fails only once in a million runs.
 */
function critical(df: number): number {
  const z = 4.7534; // standard normal upper 1e-6 quantile
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

const looksUniform = (counts: number[]): boolean => chiSquare(counts) < critical(counts.length - 1);

const SAMPLE_CHARS = 200_000;

/** Character counts (indexed like the alphabet) of SAMPLE_CHARS characters drawn by randomCodes. */
function ourCounts(chars: string): { alphabet: string; counts: number[] } {
  const format = compileFormat(`{string('${chars}', 50)}`);
  const part = format.parts[0];
  if (part?.kind !== 'random') throw new Error('expected one random part');
  const counts = new Array<number>(part.alphabet.length).fill(0);
  for (const code of randomCodes(format, SAMPLE_CHARS / 50)) {
    for (const c of code) counts[part.alphabet.indexOf(c)]! += 1;
  }
  return { alphabet: part.alphabet, counts };
}

/** The classic mistake: `byte % n` over-represents the first 256 % n characters. */
function moduloBiasedCounts(n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const b of randomFillSync(new Uint8Array(SAMPLE_CHARS))) counts[b % n]! += 1;
  return counts;
}

describe('chi-square test of the character distribution', () => {
  const alphabets: [string, number][] = [
    ['0-9', 10],
    ['a-Z', 52],
    ['0-9a-Z', 62],
    ['0-9A-Z', 36],
  ];
  for (const [chars, size] of alphabets) {
    it(`randomCodes is uniform over '${chars}' (${size} characters)`, () => {
      const { alphabet, counts } = ourCounts(chars);
      expect(alphabet).toHaveLength(size);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(SAMPLE_CHARS);
      expect(chiSquare(counts)).toBeLessThan(critical(size - 1));
    });
  }

  // For n = 10 the modulo bias (26/256 vs 25/256) is too small to catch reliably with 200,000 draws;
  // for these sizes it is caught with an enormous margin.
  for (const size of [52, 62, 36]) {
    it(`the same test rejects a modulo-biased generator for ${size} characters`, () => {
      const counts = moduloBiasedCounts(size);
      expect(looksUniform(counts)).toBe(false);
      expect(chiSquare(counts)).toBeGreaterThan(2 * critical(size - 1));
    });
  }
});

describe('randomCodes', () => {
  // how fast is the generation benchmark's business, not the suite's
  it('draws 100,000 codes of the seed format, all valid', () => {
    const format = compileFormat(SEED);
    const codes = randomCodes(format, 100_000);
    expect(codes).toHaveLength(100_000);
    const re = formatRegExp(format);
    expect(codes.every((c) => re.test(c))).toBe(true);
    // a keyspace of 1.4e21 makes a repeat among 1e5 codes a ~3e-12 event
    expect(new Set(codes).size).toBe(100_000);
  });

  it('handles literal-only formats, a one-character alphabet and count 0', () => {
    expect(randomCodes(compileFormat('WELCOME'), 3)).toEqual(['WELCOME', 'WELCOME', 'WELCOME']);
    expect(randomCodes(compileFormat("A{string('x', 3)}B"), 2)).toEqual(['AxxxB', 'AxxxB']);
    expect(randomCodes(compileFormat(SEED), 0)).toEqual([]);
  });

  it('rejects a bad count', () => {
    const format = compileFormat(SEED);
    expect(() => randomCodes(format, -1)).toThrow(RangeError);
    expect(() => randomCodes(format, 1.5)).toThrow(RangeError);
  });
});

describe('randomBigIntBelow', () => {
  it('rejects bounds that are not positive', () => {
    expect(() => randomBigIntBelow(0n)).toThrow(RangeError);
    expect(() => randomBigIntBelow(-5n)).toThrow(RangeError);
  });

  it('stays in range for small and huge bounds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 300n }), (n) => {
        const value = randomBigIntBelow(n);
        expect(value >= 0n && value < n).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(randomBigIntBelow(1n)).toBe(0n);
  });

  it('is uniform below a small bound and a huge bound', () => {
    const small = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) small[Number(randomBigIntBelow(7n))]! += 1;
    expect(looksUniform(small)).toBe(true);

    // 3 * 2^100 + 1: the rejection path with a mask; bucket by thirds of the range and by low bits
    const n = 3n * 2n ** 100n + 1n;
    const thirds = [0, 0, 0];
    const low = new Array<number>(16).fill(0);
    for (let i = 0; i < 30_000; i++) {
      const value = randomBigIntBelow(n);
      thirds[Number(value / 2n ** 100n)]! += 1; // the single value 3 * 2^100 is never drawn in practice
      low[Number(value % 16n)]! += 1;
    }
    expect(looksUniform(thirds)).toBe(true);
    expect(looksUniform(low)).toBe(true);
  });
});

describe('sampleDistinctIndexes', () => {
  function expectDistinctInRange(keyspace: bigint, count: number): bigint[] {
    const sample = sampleDistinctIndexes(keyspace, count);
    expect(sample).toHaveLength(count);
    expect(new Set(sample).size).toBe(count);
    expect(sample.every((i) => i >= 0n && i < keyspace)).toBe(true);
    return sample;
  }

  it('returns distinct in-range values for every strategy', () => {
    expectDistinctInRange(1000n, 10); // sparse
    expectDistinctInRange(1000n, 900); // dense
    expectDistinctInRange(2n ** 50n, 1000); // sparse, beyond crypto.randomInt
    expectDistinctInRange(10n ** 30n, 1000); // rejection
    expect(sampleDistinctIndexes(10n ** 30n, 0)).toEqual([]);
  });

  it('returns the whole keyspace when count equals it', () => {
    const all = expectDistinctInRange(100n, 100);
    expect([...all].sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    expect(sampleDistinctIndexes(1n, 1)).toEqual([0n]);
  });

  it('property: distinct and in range', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 5000n }), fc.nat(), (keyspace, seed) => {
        expectDistinctInRange(keyspace, seed % (Number(keyspace) + 1));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects impossible requests', () => {
    expect(() => sampleDistinctIndexes(10n, 11)).toThrow(/cannot draw 11 distinct indexes/);
    expect(() => sampleDistinctIndexes(10n, -1)).toThrow(RangeError);
    expect(() => sampleDistinctIndexes(10n, 2.5)).toThrow(RangeError);
  });

  it('is uniform in membership and in order, dense and sparse', () => {
    for (const [keyspace, count] of [
      [10, 3],
      [1000, 10],
    ] as const) {
      const member = new Array<number>(keyspace).fill(0);
      const first = new Array<number>(keyspace).fill(0);
      for (let run = 0; run < 20_000; run++) {
        const sample = sampleDistinctIndexes(BigInt(keyspace), count);
        first[Number(sample[0])]! += 1;
        for (const i of sample) member[Number(i)]! += 1;
      }
      expect(looksUniform(first), `first of ${count}/${keyspace}`).toBe(true);
      expect(looksUniform(member), `members of ${count}/${keyspace}`).toBe(true);
    }
  });

  it('is uniform for huge keyspaces', () => {
    const keyspace = 10n ** 30n;
    const tenths = new Array<number>(10).fill(0);
    for (let run = 0; run < 5_000; run++) {
      for (const i of sampleDistinctIndexes(keyspace, 4)) tenths[Number((i * 10n) / keyspace)]! += 1;
    }
    expect(looksUniform(tenths)).toBe(true);
  });
});
