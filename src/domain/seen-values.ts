/** Bits of the filter: 8 MiB. Of 16 million distinct values, about 5 % are flagged by mistake (of a million, 0.03 %). */
const DEFAULT_BITS = 2 ** 26;

/**
 * The values of a file seen so far, as a Bloom filter of fixed size over the values' 32-bit
 * hashes (valueHash): `add` answers whether the value may have been added before. `false` is
 * certain (a first occurrence); `true` may be a false alarm, more often the more values were
 * added. Memory stays the same whatever the file. Blocked: a value's 3 bits lie in one 64-bit
 * block, so that an add costs one cache miss, not three.
 */
export class SeenValues {
  private readonly words: Uint32Array;
  private readonly blockMask: number;

  constructor(bitCount = DEFAULT_BITS) {
    if (!Number.isInteger(Math.log2(bitCount)) || bitCount < 64) throw new RangeError('bitCount must be a power of two, at least 64');
    this.words = new Uint32Array(bitCount / 32);
    this.blockMask = bitCount / 64 - 1;
  }

  add(hash: number): boolean {
    const block = mix(hash, 0x85ebca6b) & this.blockMask;
    const bits = mix(hash, 0xc2b2ae35);
    let seen = true;
    for (let probe = 0; probe < 3; probe += 1) {
      const bit = (bits >>> (probe * 6)) & 63;
      const word = block * 2 + (bit >>> 5);
      const flag = 1 << (bit & 31);
      const current = this.words[word]!;
      if ((current & flag) === 0) {
        seen = false;
        this.words[word] = current | flag;
      }
    }
    return seen;
  }
}

/** A 32-bit hash's bits spread again (MurmurHash3's finaliser, seeded), so that block and bits do not follow one another. */
function mix(hash: number, seed: number): number {
  let h = Math.imul(hash ^ (hash >>> 16), seed);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}
