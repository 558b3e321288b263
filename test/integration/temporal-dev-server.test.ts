import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../src/logger.js';
import { freePort } from '../../src/local/ports.js';
import { findTemporalCli, startTemporalDevServer } from '../../src/local/temporal-dev-server.js';
import { eventually } from '../support/stack.js';

const cliPath = findTemporalCli(process.env.TEMPORAL_CLI_PATH);
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'dev-server-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe.skipIf(!cliPath)('the CLI dev server', () => {
  it('refuses to start on a port another process holds, with the server’s own reason', async () => {
    const holder = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const started = startTemporalDevServer({ cliPath, port, namespace: 'default' });
      await expect(started).rejects.toThrow(new RegExp(`port ${port}\\) exited \\(1\\): .*address already in use`));
    } finally {
      holder.close();
    }
  });

  it('is ready only once it answers for its namespace', async () => {
    // a CLI that opens the port and never serves Temporal: a port check alone would call it ready
    const impostor = path.join(scratch, 'impostor');
    await writeFile(impostor, `#!/usr/bin/env node\nconst port = Number(process.argv[process.argv.indexOf('--port') + 1]);\nrequire('node:net').createServer((socket) => socket.destroy()).listen(port, '127.0.0.1');\nsetTimeout(() => process.exit(3), 4000);\n`);
    await chmod(impostor, 0o755);
    const started = startTemporalDevServer({ cliPath: impostor, port: await freePort(), namespace: 'default' });
    await expect(started).rejects.toThrow(/exited \(3\)/);
  });

  it('reports an exit nobody asked for, with what the server wrote to stderr', async () => {
    // the real CLI, through a script that records its process id (exec keeps it)
    const pidFile = path.join(scratch, 'pid');
    const wrapper = path.join(scratch, 'temporal');
    await writeFile(wrapper, `#!/bin/sh\necho $$ > '${pidFile}'\nexec '${cliPath}' "$@"\n`);
    await chmod(wrapper, 0o755);
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => {});
    try {
      const port = await freePort();
      const temporal = await startTemporalDevServer({ cliPath: wrapper, port, namespace: 'default' });
      process.kill(Number(await readFile(pidFile, 'utf8')), 'SIGKILL');
      await eventually(async () => errors.mock.calls.length > 0, 10_000);
      expect(String(errors.mock.calls[0]![1])).toMatch(new RegExp(`port ${port}\\) exited \\(SIGKILL\\)`));
      await temporal.stop();
      expect(errors).toHaveBeenCalledTimes(1);
    } finally {
      errors.mockRestore();
    }
  });

  it('says nothing when stopped', async () => {
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => {});
    try {
      const temporal = await startTemporalDevServer({ cliPath, port: await freePort(), namespace: 'default' });
      await temporal.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });
});
