import { Context } from '@temporalio/activity';

const HEARTBEAT_MS = 2000;

/**
 * Runs an activity's work while telling the server, every two seconds (or a quarter of the
 * heartbeat timeout, if that is shorter), that its worker is alive: a worker that dies mid-way
 * is noticed at the heartbeat timeout, and the work retried elsewhere, instead of at its
 * start-to-close timeout.
 */
export async function whileHeartbeating<T>(work: (context: Context) => Promise<T>): Promise<T> {
  const context = Context.current();
  const every = Math.min(HEARTBEAT_MS, (context.info.heartbeatTimeoutMs ?? Infinity) / 4);
  context.heartbeat();
  const beat = setInterval(() => context.heartbeat(), every);
  try {
    return await work(context);
  } finally {
    clearInterval(beat);
  }
}
