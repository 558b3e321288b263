/**
 * Wraps `read` so that calls made while one is in flight share its promise: every gauge of a
 * scrape collects at once (prom-client awaits them together), so a scrape reads the database once.
 */
export function sharedInFlight<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () =>
    (inFlight ??= read().finally(() => {
      inFlight = undefined;
    }));
}
