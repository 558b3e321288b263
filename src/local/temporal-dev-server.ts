import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';

export interface LocalTemporal {
  address: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

/** TEMPORAL_CLI_PATH, else `temporal` on PATH (absolute: the SDK refuses a bare name), else none. */
export function findTemporalCli(configured: string | undefined, searchPath = process.env.PATH ?? ''): string | undefined {
  if (configured) return path.resolve(configured);
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.resolve(dir, 'temporal');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Starts a Temporal dev server with its Web UI and the project's search attributes.
 * Without a CLI on this machine the SDK downloads one (which needs the internet).
 */
export async function startTemporalDevServer(options: {
  cliPath: string | undefined;
  port: number;
  /** without one the Web UI stays off */
  uiPort?: number;
  namespace: string;
  dbFilename?: string;
}): Promise<LocalTemporal> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: options.cliPath ? { type: 'existing-path', path: options.cliPath } : { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      namespace: options.namespace,
      dbFilename: options.dbFilename,
      searchAttributes: SEARCH_ATTRIBUTES,
      log: { format: 'json', level: 'error' },
    },
  });
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort === undefined ? undefined : `http://localhost:${options.uiPort}`,
    stop: () => env.teardown(),
  };
}
