import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from './search-attributes.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED_TYPES: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  // connecting ran under a deadline
  endCallContext(connection);
  return new Client({ connection, namespace });
}

/** `call`, its requests aborted by `signal` (Connection.withAbortSignal); the call context ends with it. */
export async function withAbortSignal<T>(connection: ConnectionLike, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  try {
    return await connection.withAbortSignal(signal, call);
  } finally {
    endCallContext(connection);
  }
}

/**
 * Turns off the connection's call context (an AsyncLocalStorage; withDeadline and
 * withAbortSignal turn it on again for their scope). On Node 20 the first run of an
 * AsyncLocalStorage turns on promise hooks for the whole process until it is disabled, and then
 * every promise pays for them: they took 8–9 % of the API's CPU per direct issue.
 */
function endCallContext(connection: ConnectionLike): void {
  (connection as Partial<Connection>).callContextStorage?.disable();
}

/** Registers the project's search attributes on a server that lacks them (a dev server gets them at start). */
export async function ensureSearchAttributes(client: Client): Promise<void> {
  const { namespace } = client.options;
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in customAttributes));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_TYPES[key.type]!])),
  });
}
