/**
 * Counts failed attempts (a wrong token at /signin or as a bearer token) per client address
 * in a sliding window; at `maxFailures` within `windowMs` the address is refused until its
 * oldest counted failure leaves the window. In memory, per process: several API processes
 * each allow `maxFailures`. A success resets nothing, so a known-good token from one place
 * does not buy guesses elsewhere.
 */
export interface Throttle {
  /** seconds until `key` may try again, or 0 when it may now */
  retryAfter(key: string): number;
  /** records a failure of `key` */
  fail(key: string): void;
}

export const DEFAULT_THROTTLE = { maxFailures: 10, windowMs: 60_000 } as const;
// beyond this many addresses the oldest are forgotten, so a flood of addresses cannot exhaust memory
const MAX_KEYS = 100_000;

export function createThrottle({ maxFailures, windowMs }: { maxFailures: number; windowMs: number } = DEFAULT_THROTTLE, now: () => number = Date.now): Throttle {
  const failures = new Map<string, number[]>();
  const recent = (key: string): number[] => {
    const since = now() - windowMs;
    const times = (failures.get(key) ?? []).filter((time) => time > since);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };
  return {
    retryAfter: (key) => {
      const times = recent(key);
      if (times.length < maxFailures) return 0;
      return Math.max(1, Math.ceil((times[times.length - maxFailures]! + windowMs - now()) / 1000));
    },
    fail: (key) => {
      const times = recent(key);
      times.push(now());
      failures.delete(key); // re-inserted last: the map stays ordered by latest failure
      failures.set(key, times.slice(-maxFailures));
      if (failures.size > MAX_KEYS) failures.delete(failures.keys().next().value!);
    },
  };
}
