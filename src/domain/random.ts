// Unbiased cryptographic randomness for promo codes. Pure apart from reading node:crypto.
import { randomFillSync, randomInt } from 'node:crypto';
import type { ParsedFormat } from './format.js';

// Random bytes are pulled in large chunks: one randomFillSync call per 64 KiB instead of one per character.
const POOL_SIZE = 64 * 1024;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

function nextByte(): number {
  if (poolOffset === POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}

/**
 * Maps each byte value to a character, or to undefined for the bytes that must be rejected:
 * only the first floor(256/n)*n byte values map evenly onto n characters.
 */
function byteToChar(alphabet: string): (string | undefined)[] {
  const n = alphabet.length;
  if (n < 1 || n > 256) throw new RangeError(`alphabet size ${n} must be 1..256`);
  const accepted = 256 - (256 % n);
  return Array.from({ length: 256 }, (_, b) => (b < accepted ? alphabet[b % n] : undefined));
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
}

/** Draws `count` codes uniformly at random (with replacement; the caller dedupes). */
export function randomCodes(format: ParsedFormat, count: number): string[] {
  checkCount(count);
  const steps = format.parts.map((part) =>
    part.kind === 'literal' ? part.text : { table: byteToChar(part.alphabet), length: part.length },
  );
  const codes = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    let code = '';
    for (const step of steps) {
      if (typeof step === 'string') {
        code += step;
        continue;
      }
      for (let k = 0; k < step.length; ) {
        const c = step.table[nextByte()];
        if (c !== undefined) {
          code += c;
          k++;
        }
      }
    }
    codes[i] = code;
  }
  return codes;
}

// crypto.randomInt requires max - min < 2^48.
const RANDOM_INT_LIMIT = 2 ** 48;

/** A uniformly random bigint in [0, n). */
export function randomBigIntBelow(n: bigint): bigint {
  if (n <= 0n) throw new RangeError(`upper bound must be positive, got ${n}`);
  if (n < BigInt(RANDOM_INT_LIMIT)) return BigInt(randomInt(Number(n)));
  const bits = (n - 1n).toString(2).length;
  const bytes = Math.ceil(bits / 8);
  // Masking the excess high bits of the first byte keeps the rejection probability below 1/2.
  const topMask = 0xff >> (bytes * 8 - bits);
  for (;;) {
    let value = BigInt(nextByte() & topMask);
    // the remaining bytes are read 6 at a time (48 bits fit exactly in a double)
    for (let left = bytes - 1; left > 0; ) {
      const take = Math.min(6, left);
      let chunk = 0;
      for (let k = 0; k < take; k++) chunk = chunk * 256 + nextByte();
      value = (value << BigInt(8 * take)) | BigInt(chunk);
      left -= take;
    }
    if (value < n) return value;
  }
}

const randomBelow = (n: number): number =>
  n < RANDOM_INT_LIMIT ? randomInt(n) : Number(randomBigIntBelow(BigInt(n)));

// Up to this keyspace size a dense Uint32Array (<= 40 MB) may be used for the shuffle.
const DENSE_LIMIT = 10_000_000;

/**
 * A uniformly random sample of `count` distinct indexes in [0, keyspace), in uniformly random order.
 * Small keyspaces: the first `count` steps of a Fisher-Yates shuffle of 0..keyspace-1, dense (typed
 * array) when the request is a large share of the keyspace, else sparse (only the touched slots, in
 * a Map). Keyspaces beyond 2^53: rejection of repeats, which are then vanishingly rare.
 */
export function sampleDistinctIndexes(keyspace: bigint, count: number): bigint[] {
  checkCount(count);
  if (BigInt(count) > keyspace) {
    throw new RangeError(`cannot draw ${count} distinct indexes from a keyspace of ${keyspace}`);
  }
  if (keyspace > BigInt(Number.MAX_SAFE_INTEGER)) return rejectionSample(keyspace, count);
  const n = Number(keyspace);
  return n <= DENSE_LIMIT && count * 16 >= n ? denseSample(n, count) : sparseSample(n, count);
}

function denseSample(n: number, count: number): bigint[] {
  const slots = new Uint32Array(n);
  for (let i = 0; i < n; i++) slots[i] = i;
  const out = new Array<bigint>(count);
  for (let i = 0; i < count; i++) {
    const j = i + randomInt(n - i);
    out[i] = BigInt(slots[j] as number);
    slots[j] = slots[i] as number;
  }
  return out;
}

function sparseSample(n: number, count: number): bigint[] {
  const moved = new Map<number, number>(); // slot x holds moved.get(x) ?? x
  const out = new Array<bigint>(count);
  for (let i = 0; i < count; i++) {
    const j = i + randomBelow(n - i);
    out[i] = BigInt(moved.get(j) ?? j);
    moved.set(j, moved.get(i) ?? i);
    moved.delete(i); // slot i is never read again
  }
  return out;
}

function rejectionSample(n: bigint, count: number): bigint[] {
  const seen = new Set<bigint>();
  while (seen.size < count) seen.add(randomBigIntBelow(n));
  return [...seen];
}
