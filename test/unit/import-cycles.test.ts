import madge from 'madge';
import { describe, expect, it } from 'vitest';

// Modules that import each other load in an order that depends on who asks first; none may.
describe('source structure', () => {
  it('has no import cycles', async () => {
    const graph = await madge('src', { fileExtensions: ['ts', 'tsx'], tsConfig: 'tsconfig.json' });
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(100); // it did read the sources
    expect(graph.circular()).toEqual([]);
  });
});
