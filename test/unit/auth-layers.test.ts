import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Authentication lives in src/auth/, used by both the API and the pages; neither imports the other's auth.

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(path.join(SRC, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file))
    .map((file) => path.join(dir, file));
}

const importsOf = (file: string) =>
  [...readFileSync(path.join(SRC, file), 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((match) =>
    path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), match[1]!)),
  );

describe('auth layering', () => {
  it('has one auth module: no src/api/auth.ts, no src/ui/session.ts', () => {
    expect(existsSync(path.join(SRC, 'api/auth.ts'))).toBe(false);
    expect(existsSync(path.join(SRC, 'ui/session.ts'))).toBe(false);
    expect(sources('auth').map((file) => path.basename(file))).toEqual(expect.arrayContaining(['tokens.ts', 'sessions.ts', 'middleware.ts', 'throttle.ts']));
  });

  it('keeps src/auth free of the pages and of API routes', () => {
    for (const file of sources('auth')) {
      for (const target of importsOf(file)) {
        expect(target.startsWith('ui/'), `${file} imports ${target}`).toBe(false);
        expect(target.startsWith('api/') && !['api/problem.js', 'api/router.js'].includes(target), `${file} imports ${target}`).toBe(false);
      }
    }
  });

  it('lets the API import nothing from src/ui but the pages it mounts', () => {
    for (const file of sources('api')) {
      const fromUi = importsOf(file).filter((target) => target.startsWith('ui/'));
      expect(fromUi, file).toEqual(file === 'api/app.ts' ? ['ui/routes.js'] : []);
    }
  });
});
