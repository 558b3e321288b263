import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Whether a presented token is one of `tokens`, compared in constant time (digests, so lengths do not leak). */
export function tokenMatcher(tokens: readonly string[]): (presented: string) => boolean {
  const allowed = tokens.map(digest);
  return (presented) => {
    const candidate = digest(presented);
    return allowed.some((token) => timingSafeEqual(token, candidate));
  };
}
