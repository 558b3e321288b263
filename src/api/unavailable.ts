import postgres from 'postgres';

/** postgres.js's own codes for a connection it could not make or lost. */
const CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

/** gRPC's UNAVAILABLE: the Temporal frontend could not be reached. */
const GRPC_UNAVAILABLE = 14;

/** SQLSTATEs of a server going down or not up yet: class 08 (connection exception), 57P01–57P03 (shutdown, crash, starting up). */
const UNAVAILABLE_STATES = /^(08|57P0[123])/;

/**
 * Which dependency an error says is out of reach for now — the database or Temporal — or
 * undefined: the request is worth retrying later (503), it is not the service's fault (500).
 */
export function unavailableDependency(error: unknown): 'database' | 'temporal' | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof postgres.PostgresError) return UNAVAILABLE_STATES.test(cause.code) ? 'database' : undefined;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return 'database';
    if (code === GRPC_UNAVAILABLE && 'details' in cause) return 'temporal';
  }
  return undefined;
}
