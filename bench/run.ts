// npm run bench [-- name ...]: runs the named benchmarks (all without a name), one JSON line each.
import { logger } from '../src/logger.js';

const BENCHES: Record<string, () => Promise<Record<string, unknown>[]>> = {
  groups: async () => (await import('./groups.js')).run(),
  generate: async () => (await import('./generate.js')).run(),
  mailing: async () => (await import('./mailing.js')).run(),
  import: async () => (await import('./imports.js')).run(),
  'import-memory': async () => (await import('./import-memory.js')).run(),
  segments: async () => (await import('./segments.js')).run(),
  issue: async () => (await import('./issue.js')).run(),
  'mailing-segment': async () => (await import('./mailing-segment.js')).run(),
  soak: async () => (await import('./soak.js')).run(),
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested : Object.keys(BENCHES)) {
  try {
    for (const line of await BENCHES[name]!()) process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch (error) {
    logger.error({ err: error, bench: name }, 'benchmark failed');
    process.exitCode = 1;
  }
}
