import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

// On Node 20 the first run of an AsyncLocalStorage turns on promise hooks for the whole process,
// until it is disabled; the Temporal client's call context is one. Each probe runs in a fresh process.
const probe = async (mode: 'sdk' | 'service' | 'dev-server') => {
  const script = fileURLToPath(new URL('../support/promise-hooks-probe.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, mode, inject('temporalAddress'), inject('databaseUrl')], {
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  return JSON.parse(stdout);
};

describe('promise hooks in the API process', () => {
  it('are turned on by the SDK connecting alone (what the probe detects)', async () => {
    expect(await probe('sdk')).toEqual({ atStart: false, afterConnect: true });
  });

  it('stay off once the service has connected, and after a readiness check', async () => {
    expect(await probe('service')).toEqual({ atStart: false, afterConnect: false, readyz: 200, afterReadyz: false });
  });

  it('stay off once a dev server has started and answered, as `npm run dev` starts one', async () => {
    expect(await probe('dev-server')).toEqual({ atStart: false, afterStart: false });
  });
});
